//! The tables, written by hand with types both backends share (Text ids,
//! Timestamp in UTC, Bool), so one query compiles for PostgreSQL and SQLite.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organization_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contact_centers (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        dialer_enabled -> Bool,
        default_region -> Text,
        time_zone -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    memberships (contact_center_id, user_id) {
        contact_center_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        role -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        organization_id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_id -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        organization_id -> Text,
        contact_center_id -> Text,
        name -> Text,
        state -> Text,
        dial_mode -> Text,
        caller_id -> Text,
        window_days -> Integer,
        window_start -> Text,
        window_end -> Text,
        ring_timeout_secs -> Integer,
        max_attempts -> Integer,
        max_attempts_per_day -> Integer,
        retry_no_answer_min -> Integer,
        retry_busy_min -> Integer,
        retry_machine_min -> Integer,
        retry_abandoned_min -> Integer,
        retry_failed_min -> Integer,
        max_abandon_rate -> Double,
        max_dial_ratio -> Double,
        wrap_up_limit_secs -> Nullable<Integer>,
        dispositions -> Text,
        machine_handling -> Text,
        safe_harbor_message -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        automated_consent -> Text,
        allow_toll_free -> Bool,
        window_hours -> Nullable<Text>,
    }
}

diesel::table! {
    leads (id) {
        id -> Text,
        organization_id -> Text,
        campaign_id -> Text,
        phone -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        custom_properties -> Text,
        status -> Text,
        priority -> Integer,
        attempts -> Integer,
        not_before -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_outcome -> Nullable<Text>,
        last_abandoned_at -> Nullable<Timestamp>,
        claimed_at -> Nullable<Timestamp>,
        claimed_from -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        callback_agent_id -> Nullable<Text>,
        region -> Nullable<Text>,
        time_zone_verified -> Bool,
        last_verdict -> Nullable<Text>,
        judged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    dnc_entries (id) {
        id -> Text,
        organization_id -> Text,
        phone -> Text,
        source -> Text,
        reason -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dnt_entries (id) {
        id -> Text,
        organization_id -> Text,
        phone -> Text,
        source -> Text,
        reason -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invalid_numbers (id) {
        id -> Text,
        organization_id -> Text,
        phone -> Text,
        kind -> Text,
        source -> Text,
        reason -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dial_attempts (id) {
        id -> Text,
        organization_id -> Text,
        campaign_id -> Text,
        lead_id -> Text,
        phone -> Text,
        started_at -> Timestamp,
        outcome -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    compliance_trail (id) {
        id -> Text,
        organization_id -> Text,
        campaign_id -> Text,
        lead_id -> Text,
        phone -> Text,
        at -> Timestamp,
        verdict -> Text,
        allowed -> Bool,
        facts -> Text,
    }
}

diesel::table! {
    import_jobs (id) {
        id -> Text,
        organization_id -> Text,
        campaign_id -> Text,
        created_by -> Nullable<Text>,
        file_name -> Text,
        state -> Text,
        total_rows -> Integer,
        processed_rows -> Integer,
        added -> Integer,
        merged -> Integer,
        rejected -> Integer,
        warned -> Integer,
        report -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        instance_id -> Nullable<Text>,
        batches_done -> Integer,
        settings -> Nullable<Text>,
    }
}

diesel::table! {
    recordings (call_id) {
        call_id -> Text,
        organization_id -> Text,
        contact_center_id -> Text,
        state -> Text,
        blob_key -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        frames -> BigInt,
        size_bytes -> BigInt,
        sha256 -> Nullable<Text>,
        paused_spans -> Text,
        deleted_at -> Nullable<Timestamp>,
        deleted_reason -> Nullable<Text>,
    }
}

diesel::table! {
    import_uploads (job_id, seq) {
        job_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    import_report_rows (job_id, row_index, code) {
        job_id -> Text,
        row_index -> Integer,
        code -> Text,
        phone -> Text,
        message -> Text,
    }
}

diesel::table! {
    calls (id) {
        id -> Text,
        organization_id -> Text,
        contact_center_id -> Text,
        campaign_id -> Nullable<Text>,
        lead_id -> Nullable<Text>,
        agent_id -> Nullable<Text>,
        target_agent_id -> Nullable<Text>,
        origin -> Text,
        phone -> Text,
        caller_id -> Text,
        state -> Text,
        outcome -> Nullable<Text>,
        answered_by -> Nullable<Text>,
        muted -> Bool,
        on_hold -> Bool,
        created_at -> Timestamp,
        dialed_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        connected_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        hold_ms -> Integer,
        talk_ms -> Integer,
        held_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    call_events (id) {
        id -> Text,
        organization_id -> Text,
        contact_center_id -> Text,
        call_id -> Nullable<Text>,
        agent_id -> Nullable<Text>,
        kind -> Text,
        detail -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    agent_presence (user_id) {
        user_id -> Text,
        organization_id -> Text,
        contact_center_id -> Nullable<Text>,
        status -> Text,
        reason -> Nullable<Text>,
        since -> Timestamp,
        pending_wrap_up_call_id -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    wrap_ups (id) {
        id -> Text,
        organization_id -> Text,
        call_id -> Text,
        campaign_id -> Nullable<Text>,
        lead_id -> Nullable<Text>,
        agent_id -> Text,
        disposition_code -> Text,
        notes -> Text,
        automatic -> Bool,
        created_at -> Timestamp,
        do_not_call -> Bool,
        do_not_text -> Bool,
        invalid_number -> Nullable<Text>,
        callback_at -> Nullable<Timestamp>,
        callback_agent_id -> Nullable<Text>,
        updated_at -> Nullable<Timestamp>,
        corrections -> Integer,
        wrap_ms -> Integer,
        category -> Text,
        conversion -> Bool,
        revoke_consent -> Bool,
    }
}

diesel::table! {
    consents (id) {
        id -> Text,
        organization_id -> Text,
        phone -> Text,
        kind -> Text,
        at -> Timestamp,
        method -> Text,
        source -> Text,
        lead_id -> Nullable<Text>,
        call_id -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organization_policies (organization_id, revision) {
        organization_id -> Text,
        revision -> Integer,
        policy -> Text,
        set_at -> Timestamp,
        set_by -> Text,
    }
}

diesel::table! {
    agent_time (contact_center_id, hour, user_id, status) {
        contact_center_id -> Text,
        hour -> Timestamp,
        user_id -> Text,
        status -> Text,
        organization_id -> Text,
        ms -> BigInt,
    }
}

diesel::table! {
    call_hours (campaign_id, hour, contact_center_id, agent_id, outcome, answered_by, dialed, connected) {
        contact_center_id -> Text,
        campaign_id -> Text,
        hour -> Timestamp,
        agent_id -> Text,
        outcome -> Text,
        answered_by -> Text,
        dialed -> Bool,
        connected -> Bool,
        calls -> BigInt,
        talk_ms -> BigInt,
        hold_ms -> BigInt,
    }
}

diesel::table! {
    wrap_hours (campaign_id, hour, contact_center_id, agent_id, disposition_code, category, conversion) {
        contact_center_id -> Text,
        campaign_id -> Text,
        hour -> Timestamp,
        agent_id -> Text,
        disposition_code -> Text,
        category -> Text,
        conversion -> Bool,
        wrap_ups -> BigInt,
        wrap_ms -> BigInt,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        url -> Text,
        secret -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    follow_up_rules (id) {
        id -> Text,
        organization_id -> Text,
        campaign_id -> Text,
        position -> Integer,
        disposition_code -> Nullable<Text>,
        category -> Nullable<Text>,
        action -> Text,
        delay_minutes -> Nullable<Integer>,
        target_campaign_id -> Nullable<Text>,
        endpoint_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        organization_id -> Text,
        endpoint_id -> Text,
        event -> Text,
        payload -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        outbox_id -> Text,
        attempt -> Integer,
        at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> Integer,
    }
}

diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(contact_centers -> organizations (organization_id));
diesel::joinable!(memberships -> contact_centers (contact_center_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(campaigns -> contact_centers (contact_center_id));
diesel::joinable!(leads -> campaigns (campaign_id));
diesel::joinable!(dial_attempts -> leads (lead_id));

diesel::table! {
    server_heartbeats (instance_id) {
        instance_id -> Text,
        started_at -> Timestamp,
        beat_at -> Timestamp,
        internal_url -> Nullable<Text>,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    center_leases (contact_center_id) {
        contact_center_id -> Text,
        owner -> Nullable<Text>,
        epoch -> BigInt,
        expires_at -> Timestamp,
        taken_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bus_events (id) {
        id -> BigInt,
        payload -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(center_leases -> contact_centers (contact_center_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    organization_policies,
    users,
    contact_centers,
    memberships,
    sessions,
    api_tokens,
    audit_log,
    campaigns,
    leads,
    dnc_entries,
    dnt_entries,
    invalid_numbers,
    dial_attempts,
    compliance_trail,
    import_jobs,
    import_uploads,
    import_report_rows,
    recordings,
    calls,
    call_events,
    agent_presence,
    wrap_ups,
    agent_time,
    call_hours,
    wrap_hours,
    webhook_endpoints,
    follow_up_rules,
    outbox,
    webhook_deliveries,
    server_heartbeats,
    bus_events,
    center_leases,
);
