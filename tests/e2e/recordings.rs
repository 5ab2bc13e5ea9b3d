//! A call's recording, on both backends: `Call.recording` says what it
//! holds, `GET /recordings/{callId}` serves it as 16-bit PCM WAV with byte
//! ranges to supervisors of the call's center and admins (an agent is
//! refused, another organization gets 404, nobody without a token), and
//! every listen and download is in the audit log.

use pinline::recording::blobs;
use pinline::recording::wav::{HEADER, PCM_HEADER, Pcm16, Writer};
use pinline::store;
use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, engine_tests};
use serde_json::json;

engine_tests!(a_recording_is_served_by_range_to_those_who_may_hear_it);

async fn get(
    f: &Floor,
    token: Option<&str>,
    path: &str,
    range: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = f.srv.client.get(format!("{}{path}", f.srv.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

async fn a_recording_is_served_by_range_to_those_who_may_hear_it(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PROGRESSIVE"}),
        vec![lead("+12025550801", "human", 1, 600)],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let call = f.until_connected(0).await;
    f.advance(2).await;
    f.hang_up(0, &call).await;
    f.advance(1).await;
    let db = f.srv.app.db.clone();
    let row = store::calls::get(&db, &call)
        .await
        .expect("call")
        .expect("the call");

    // A second of recording, as the recorder leaves it, kept in the store.
    let frames: Vec<u8> = (0..16_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::create_dir_all(&f.srv.data_dir).expect("data dir");
    let spool = f.srv.data_dir.join("spool.wav");
    let mut w = Writer::new(std::fs::File::create(&spool).expect("spool")).expect("writer");
    w.write(&frames).expect("write");
    w.finish().expect("finish");
    let key = blobs::key(&row.organization_id, &call);
    f.srv
        .app
        .recordings()
        .keep(&spool, &key)
        .await
        .expect("kept");
    store::recordings::insert(
        &db,
        &store::recordings::Recording {
            call_id: call.clone(),
            organization_id: row.organization_id.clone(),
            contact_center_id: row.contact_center_id.clone(),
            state: "DONE".into(),
            blob_key: key,
            started_at: row.created_at,
            ended_at: row.ended_at,
            frames: 8_000,
            size_bytes: (HEADER + 16_000) as i64,
            sha256: None,
            paused_spans: r#"[{"fromMs":200,"toMs":500}]"#.into(),
            deleted_at: None,
            deleted_reason: None,
        },
    )
    .await
    .expect("recording row");

    let q = "query($id:ID!){call(id:$id){recording{state durationSeconds channels sizeBytes pausedSpans{from to} url}}}";
    let rec = f.srv.ok(Some(&f.sup), q, json!({"id": call})).await["call"]["recording"].clone();
    assert_eq!(
        rec,
        json!({
            "state": "DONE",
            "durationSeconds": 1.0,
            "channels": 2,
            "sizeBytes": 16_058,
            "pausedSpans": [{"from": 0.2, "to": 0.5}],
            "url": format!("/recordings/{call}"),
        })
    );

    let path = format!("/recordings/{call}");
    let served = Pcm16 { frames: 8_000 };
    let (status, headers, whole) = get(&f, Some(&f.sup), &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(whole.len() as u64, served.len());
    assert_eq!(headers["content-type"], "audio/wav");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(&whole[..4], b"RIFF");
    assert_eq!(
        i16::from_le_bytes([whole[PCM_HEADER as usize], whole[PCM_HEADER as usize + 1]]),
        pinline::media::g711::ulaw_to_linear(frames[0])
    );
    let (status, headers, part) = get(&f, Some(&f.sup), &path, Some("bytes=0-99")).await;
    assert_eq!(status, 206);
    assert_eq!(
        headers["content-range"],
        format!("bytes 0-99/{}", served.len())
    );
    assert_eq!(part, whole[..100]);
    let (status, _, tail) = get(&f, Some(&f.sup), &path, Some("bytes=1001-")).await;
    assert_eq!(status, 206);
    assert_eq!(tail, whole[1001..]);
    let (status, headers, _) = get(&f, Some(&f.sup), &path, Some("bytes=99999999-")).await;
    assert_eq!(status, 416);
    assert_eq!(
        headers["content-range"],
        format!("bytes */{}", served.len())
    );

    let admin = f.srv.login_demo("admin").await;
    assert_eq!(get(&f, Some(&admin), &path, None).await.0, 200);
    let agent = f.agents[0].token.clone();
    assert_eq!(
        get(&f, Some(&agent), &path, None).await.0,
        403,
        "the agent's own call"
    );
    let stranger = f.other_org_admin().await;
    assert_eq!(get(&f, Some(&stranger), &path, None).await.0, 404);
    assert_eq!(get(&f, None, &path, None).await.0, 401);
    assert_eq!(
        get(&f, Some(&admin), "/recordings/no-such-call", None)
            .await
            .0,
        404
    );

    // Two downloads and one listen from the start; the later ranges of a
    // listen are not each written down.
    let audit = store::audit::list(&db, &row.organization_id, None, 100)
        .await
        .expect("audit")
        .items;
    let of = |action: &str| {
        audit
            .iter()
            .filter(|e| e.action == action && e.subject_id == call)
            .count()
    };
    assert_eq!((of("recording.download"), of("recording.listen")), (2, 1));
    f.finish().await;
}
