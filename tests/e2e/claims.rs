//! Lead claiming under contention, on both backends: 16 claimers drain
//! 10 000 leads while another task adds DNC entries. No lead is claimed
//! twice, and no number is returned by a claim that started after its DNC
//! entry committed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pinline::store::{self, audit, claims};
use pinline_tests::{TestServer, on_both_backends};
use serde_json::json;

on_both_backends!(concurrent_claims_never_double_dial_or_dial_dnc);

async fn concurrent_claims_never_double_dial_or_dial_dnc(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = srv
        .ok(
            Some(&sup),
            "{ contactCenters { edges { node { id } } } }",
            json!({}),
        )
        .await["contactCenters"]["edges"][0]["node"]["id"]
        .clone();
    let campaign = srv
        .ok(
            Some(&sup),
            "mutation($cc:ID!){createCampaign(input:{contactCenterId:$cc,name:\"Load\",callerId:\"+14155550100\",maxAttempts:3}){campaign{id}}}",
            json!({"cc": cc}),
        )
        .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let phones: Vec<String> = (0..10_000).map(|i| format!("+1212201{i:04}")).collect();
    let leads: Vec<_> = phones
        .iter()
        .map(|p| json!({"phone": p, "timeZone": "America/New_York"}))
        .collect();
    let added = srv
        .ok(
            Some(&sup),
            "mutation($i:AddLeadsInput!){addLeads(input:$i){added rejected{code}}}",
            json!({"i": {"campaignId": campaign, "leads": leads}}),
        )
        .await;
    assert_eq!(added["addLeads"]["added"], 10_000, "{added}");
    let org = store::campaigns::get(&srv.app.db, &campaign)
        .await
        .expect("get")
        .expect("campaign")
        .organization_id;

    // The claimers and the DNC writer share a pool with a connection each,
    // as the engine's tasks would.
    let target = store::DbTarget::resolve(Some(&srv.database_url), &srv.data_dir);
    let db = store::Db::connect(&target, 17).await.expect("pool");
    let zones = vec!["America/New_York".to_owned()];
    let claimed: Arc<Mutex<Vec<(String, String, Instant)>>> = Arc::default();
    let dnc_committed: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (db, campaign, org, zones, claimed) = (
            db.clone(),
            campaign.clone(),
            org.clone(),
            zones.clone(),
            claimed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let started = Instant::now();
                let spec = claims::ClaimSpec {
                    organization_id: &org,
                    campaign_id: &campaign,
                    now: store::now(),
                    open_zones: &zones,
                    max_attempts: 3,
                    abandoned_after: None,
                    limit: 8,
                    fence: None,
                };
                let got = claims::claim(&db, &spec).await.expect("claim");
                if got.is_empty() {
                    break;
                }
                let mut all = claimed.lock().expect("lock");
                all.extend(got.into_iter().map(|l| (l.id, l.phone, started)));
            }
        }));
    }
    {
        let (db, org, phones, dnc_committed) = (
            db.clone(),
            org.clone(),
            phones.clone(),
            dnc_committed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            // From the end of the list backwards, so that entries land both
            // ahead of and behind the claimers (who go front to back).
            for phone in phones.iter().rev().step_by(20) {
                let entry = audit::entry(&org, None, "dnc.add", phone, "test");
                let new = store::lists::NewEntry {
                    organization_id: &org,
                    phone,
                    invalid_kind: None,
                    source: "MANUAL",
                    reason: "test",
                    created_by: None,
                };
                store::lists::add(&db, store::lists::List::DoNotCall, &new, entry)
                    .await
                    .expect("dnc");
                dnc_committed
                    .lock()
                    .expect("lock")
                    .insert(phone.clone(), Instant::now());
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }

    let claimed = std::mem::take(&mut *claimed.lock().expect("lock"));
    let dnc = std::mem::take(&mut *dnc_committed.lock().expect("lock"));
    let mut ids = HashSet::new();
    for (id, phone, started) in claimed.iter() {
        assert!(ids.insert(id.clone()), "lead {id} claimed twice");
        if let Some(committed) = dnc.get(phone) {
            assert!(
                started <= committed,
                "{phone} claimed by a claim that began after its DNC entry committed"
            );
        }
    }
    // Everything not claimed is a DNC number; every DNC number claimed was
    // claimed before its entry committed.
    let claimed_phones: HashSet<&String> = claimed.iter().map(|(_, p, _)| p).collect();
    for p in &phones {
        assert!(
            claimed_phones.contains(p) || dnc.contains_key(p),
            "{p} neither claimed nor DNC"
        );
    }
    assert!(claimed.len() >= 10_000 - dnc.len());
    let skipped = dnc.keys().filter(|p| !claimed_phones.contains(p)).count();
    assert!(
        skipped > 0,
        "the DNC writer never got ahead of the claimers: the race was not exercised"
    );
    assert_eq!(claimed.len() + skipped, 10_000);
    srv.finish().await;
}
