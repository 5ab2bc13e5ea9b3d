//! CSV exports of a campaign over a range, on both backends: each file's
//! columns, one row per call / wrap-up / gate decision in the range and
//! none outside it, notes kept whole (commas, quotes, new lines) and
//! formulas defused, and the same access rules as the API.

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, engine_tests};
use serde_json::json;

engine_tests!(exports_have_their_columns_and_one_row_per_record);

const WRAP: &str = "mutation($i:SubmitWrapUpInput!){submitWrapUp(input:$i){wrapUp{id}}}";

fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("a record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

async fn exports_have_their_columns_and_one_row_per_record(backend: Backend) {
    let (a, b, c) = ("+12025550701", "+12025550702", "+12025550703");
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PROGRESSIVE"}),
        vec![
            lead(a, "human", 1, 600),
            lead(b, "human", 1, 600),
            lead(c, "machine", 1, 5),
        ],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let notes = "said \"call me\", after 5\nsecond line";
    for (code, notes, dnt) in [
        ("INTERESTED", notes, true),
        ("NOT_INTERESTED", "=1+1", false),
    ] {
        let call = f.until_connected(0).await;
        f.advance(4).await;
        f.hang_up(0, &call).await;
        f.advance(1).await;
        f.agent_ok(
            0,
            WRAP,
            json!({"i": {"callId": call, "dispositionCode": code, "notes": notes, "doNotText": dnt}}),
        )
        .await;
    }
    for _ in 0..20 {
        f.advance(1).await;
    }
    let (from, to) = ("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z");

    let (status, text) = f.export(Some(&f.sup), "calls", from, to).await;
    assert_eq!(status, 200, "{text}");
    let (header, rows) = parse(&text);
    assert_eq!(header.len(), 22, "{header:?}");
    assert_eq!(&header[..3], ["call_id", "created_at", "dialed_at"]);
    assert_eq!(rows.len(), 3, "three calls: {text}");
    let col = |h: &[String], name: &str| h.iter().position(|c| c == name).expect(name);
    let (phone, outcome, disp, dnt) = (
        col(&header, "phone"),
        col(&header, "outcome"),
        col(&header, "disposition_code"),
        col(&header, "do_not_text"),
    );
    let row_of = |p: &str| rows.iter().find(|r| r[phone] == p).expect(p).clone();
    assert_eq!(
        [&row_of(a)[outcome], &row_of(a)[disp], &row_of(a)[dnt]],
        ["COMPLETED", "INTERESTED", "true"]
    );
    assert_eq!([&row_of(c)[outcome], &row_of(c)[disp]], ["MACHINE", ""]);
    assert!(row_of(a)[col(&header, "agent_email")].starts_with("agent1@"));

    let (status, text) = f.export(Some(&f.sup), "wrap-ups", from, to).await;
    assert_eq!(status, 200);
    let (header, rows) = parse(&text);
    assert_eq!(header.len(), 21, "{header:?}");
    assert_eq!(rows.len(), 2);
    let n = col(&header, "notes");
    let p = col(&header, "phone");
    let by = |ph: &str| rows.iter().find(|r| r[p] == ph).expect(ph).clone();
    assert_eq!(by(a)[n], notes, "notes whole");
    assert_eq!(by(b)[n], "'=1+1", "a formula defused");
    assert_eq!(by(a)[col(&header, "do_not_text")], "true");

    let (status, text) = f.export(Some(&f.sup), "compliance-trail", from, to).await;
    assert_eq!(status, 200);
    let (header, rows) = parse(&text);
    assert_eq!(header.len(), 15, "{header:?}");
    let stored = pinline::store::trail::list(
        &f.srv.app.db,
        &f.campaign,
        "2026-11-24T00:00:00".parse().expect("t"),
        "2026-11-25T00:00:00".parse().expect("t"),
        None,
        10_000,
    )
    .await
    .expect("trail");
    assert!(!stored.items.is_empty());
    assert_eq!(rows.len(), stored.items.len());

    // Outside the range: the header alone.
    for what in ["calls", "wrap-ups", "compliance-trail"] {
        let (status, text) = f
            .export(
                Some(&f.sup),
                what,
                "2026-11-20T00:00:00Z",
                "2026-11-21T00:00:00Z",
            )
            .await;
        assert_eq!((status, text.lines().count()), (200, 1), "{what}: {text}");
    }
    // Refused: no token, an agent, another organization, a bad range.
    assert_eq!(f.export(None, "calls", from, to).await.0, 401);
    assert_eq!(
        f.export(Some(&f.agents[0].token), "wrap-ups", from, to)
            .await
            .0,
        403
    );
    let other = f.other_org_admin().await;
    assert_eq!(f.export(Some(&other), "calls", from, to).await.0, 404);
    assert_eq!(f.export(Some(&f.sup), "calls", to, from).await.0, 400);
    f.finish().await;
}
