//! A dialer floor for engine tests: the demo organization, a running
//! campaign with given leads, agents signed in, and the engine on a manual
//! clock (Tuesday 2026-11-24 12:00 in New York), so time moves only when
//! the test says and every run is the same.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use pinline::events::{Event, EventKind};
use serde_json::{Value, json};

use crate::{Backend, TestServer};

/// Noon in New York on a Tuesday.
pub fn test_start() -> DateTime<Utc> {
    "2026-11-24T17:00:00Z".parse().expect("time")
}

/// Run each named `async fn NAME(backend: Backend)` on both backends.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}

pub struct Agent {
    pub token: String,
    pub id: String,
}

pub struct Floor {
    pub srv: TestServer,
    pub sup: String,
    pub cc: String,
    pub campaign: String,
    pub agents: Vec<Agent>,
    events: BoxStream<'static, Event>,
    pub seen: Vec<Event>,
}

/// A lead with the sim's forcing properties.
pub fn lead(phone: &str, outcome: &str, ring: u32, talk: u32) -> Value {
    json!({
        "phone": phone,
        "firstName": "Test",
        "lastName": phone,
        "timeZone": "America/New_York",
        "customProperties": [
            {"key": "plan", "value": "gold"},
            {"key": "sim.outcome", "value": outcome},
            {"key": "sim.ring_seconds", "value": ring.to_string()},
            {"key": "sim.talk_seconds", "value": talk.to_string()},
        ],
    })
}

/// The first contact center `token` sees.
pub async fn first_contact_center(srv: &TestServer, token: &str) -> String {
    srv.ok(
        Some(token),
        "{ contactCenters { edges { node { id } } } }",
        json!({}),
    )
    .await["contactCenters"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("cc")
        .to_owned()
}

/// Demo agent `i` signed in, with a live connection as the web app holds.
pub async fn demo_agent(srv: &TestServer, i: usize) -> Agent {
    let token = srv.login_demo(&format!("agent{i}")).await;
    let id = srv.ok(Some(&token), "{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    srv.app.engine.connection(&id, true);
    Agent { token, id }
}

impl Floor {
    /// `settings`: extra createCampaign input fields (`dialMode`, …).
    pub async fn new(backend: Backend, settings: Value, leads: Vec<Value>, agents: usize) -> Floor {
        Self::new_with(
            backend,
            |c| c.manual_clock_start = Some(test_start()),
            settings,
            leads,
            agents,
        )
        .await
    }

    /// As [`Floor::new`] on a server configured by `tune` (the real clock
    /// unless `tune` sets a manual one).
    pub async fn new_with(
        backend: Backend,
        tune: impl FnOnce(&mut pinline::config::Config),
        settings: Value,
        leads: Vec<Value>,
        agents: usize,
    ) -> Floor {
        let srv = TestServer::start_with(backend, |c| {
            c.webhooks.retry_base = std::time::Duration::from_millis(100);
            tune(c);
        })
        .await;
        srv.seed_demo().await;
        let sup = srv.login_demo("supervisor").await;
        let cc = first_contact_center(&srv, &sup).await;
        let mut input = json!({
            "contactCenterId": cc,
            "name": "Engine test",
            "callerId": "+14155550200",
        });
        if let (Some(i), Some(extra)) = (input.as_object_mut(), settings.as_object()) {
            for (k, v) in extra {
                i.insert(k.clone(), v.clone());
            }
        }
        let campaign = srv
            .ok(
                Some(&sup),
                "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
                json!({"i": input}),
            )
            .await["createCampaign"]["campaign"]["id"]
            .as_str()
            .expect("campaign")
            .to_owned();
        if !leads.is_empty() {
            let added = srv
                .ok(
                    Some(&sup),
                    "mutation($i:AddLeadsInput!){addLeads(input:$i){added rejected{code message}}}",
                    json!({"i": {"campaignId": campaign, "leads": leads}}),
                )
                .await;
            assert_eq!(added["addLeads"]["rejected"], json!([]), "{added}");
        }
        let mut out = Vec::new();
        for i in 1..=agents {
            out.push(demo_agent(&srv, i).await);
        }
        let events = srv.app.events.subscribe();
        Floor {
            srv,
            sup,
            cc,
            campaign,
            agents: out,
            events,
            seen: Vec::new(),
        }
    }

    pub async fn start_campaign(&self) {
        self.srv
            .ok(
                Some(&self.sup),
                "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
                json!({"c": self.campaign}),
            )
            .await;
    }

    /// GraphQL as agent `i` (0-based); must succeed.
    pub async fn agent_ok(&self, i: usize, q: &str, v: Value) -> Value {
        self.srv.ok(Some(&self.agents[i].token), q, v).await
    }

    pub async fn agent_err(&self, i: usize, q: &str, v: Value) -> String {
        self.srv.err_code(Some(&self.agents[i].token), q, v).await
    }

    pub async fn set_status(&self, i: usize, status: &str) -> Value {
        self.agent_ok(
            i,
            "mutation($cc:ID!,$s:AgentStatus!){setAgentStatus(input:{contactCenterId:$cc,status:$s}){presence{status reason pinnedLeg{id state kind}}}}",
            json!({"cc": self.cc, "s": status}),
        )
        .await["setAgentStatus"]["presence"]
            .clone()
    }

    pub async fn presence(&self, i: usize) -> Value {
        self.agent_ok(
            i,
            "{ myPresence { status reason pinnedLeg { id state kind } activeCall { id state } wrapUpCall { id } } }",
            json!({}),
        )
        .await["myPresence"]
            .clone()
    }

    pub async fn active_call(&self, i: usize) -> Value {
        self.agent_ok(
            i,
            "{ myActiveCall { id origin dialer state muted onHold outcome lead { id phone customProperties { key value } } campaign { id name } } }",
            json!({}),
        )
        .await["myActiveCall"]
            .clone()
    }

    /// Advance a second at a time until agent `i` has a connected call;
    /// its id.
    pub async fn until_connected(&mut self, i: usize) -> String {
        for _ in 0..120 {
            let c = self.active_call(i).await;
            if c["state"] == "CONNECTED" {
                return c["id"].as_str().expect("id").to_owned();
            }
            self.advance(1).await;
        }
        panic!("no call connected to agent {i}");
    }

    pub async fn hang_up(&self, i: usize, call_id: &str) {
        self.agent_ok(
            i,
            "mutation($c:ID!){hangUp(input:{callId:$c})}",
            json!({"c": call_id}),
        )
        .await;
    }

    /// A second dialer contact center (agent 1 and the supervisor in it)
    /// with a running campaign of `settings` holding `phone`; (contact
    /// center, campaign).
    pub async fn second_contact_center(&self, phone: &str, settings: Value) -> (String, String) {
        let admin = self.srv.login_demo("admin").await;
        let cc = self
        .srv
        .ok(
            Some(&admin),
            "mutation{createContactCenter(input:{name:\"East\",dialerEnabled:true}){contactCenter{id}}}",
            json!({}),
        )
        .await["createContactCenter"]["contactCenter"]["id"]
        .as_str()
        .expect("cc")
        .to_owned();
        let sup_id = self
            .srv
            .ok(Some(&self.sup), "{ me { id } }", json!({}))
            .await["me"]["id"]
            .clone();
        for user in [json!(self.agents[1].id), sup_id] {
            self.srv
            .ok(
                Some(&admin),
                "mutation($cc:ID!,$u:ID!){addContactCenterMember(input:{contactCenterId:$cc,userId:$u}){__typename}}",
                json!({"cc": cc, "u": user}),
            )
            .await;
        }
        let campaign = self.campaign_in(&cc, "East", settings).await;
        self.add_lead(&campaign, lead(phone, "human", 1, 5)).await;
        self.lifecycle("startCampaign", &campaign).await;
        (cc, campaign)
    }

    /// A new campaign in the floor's contact center (DRAFT); its id.
    pub async fn campaign(&self, name: &str) -> String {
        self.campaign_in(&self.cc, name, json!({})).await
    }

    /// A new DRAFT campaign in contact center `cc`, with `extra` settings.
    pub async fn campaign_in(&self, cc: &str, name: &str, extra: Value) -> String {
        let mut i = json!({"contactCenterId": cc, "name": name, "callerId": "+14155550200"});
        for (k, v) in extra.as_object().into_iter().flatten() {
            i[k] = v.clone();
        }
        self.srv
            .ok(
                Some(&self.sup),
                "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
                json!({"i": i}),
            )
            .await["createCampaign"]["campaign"]["id"]
            .as_str()
            .expect("campaign")
            .to_owned()
    }

    /// Add one lead to `campaign` (as the supervisor).
    pub async fn add_lead(&self, campaign: &str, lead: Value) {
        let r = self
            .srv
            .ok(
                Some(&self.sup),
                "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}",
                json!({"i": {"campaignId": campaign, "leads": [lead]}}),
            )
            .await;
        assert_eq!(r["addLeads"]["added"], 1, "{r}");
    }

    /// `startCampaign`, `pauseCampaign`, … on `campaign`.
    pub async fn lifecycle(&self, mutation: &str, campaign: &str) {
        self.srv
            .ok(
                Some(&self.sup),
                &format!(
                    "mutation($c:ID!){{{mutation}(input:{{campaignId:$c}}){{campaign{{state}}}}}}"
                ),
                json!({"c": campaign}),
            )
            .await;
    }

    /// A campaign's leads: (phone, status, attempts, notBefore).
    pub async fn leads_of(&self, campaign: &str) -> Vec<Value> {
        let data = self
            .srv
            .ok(
                Some(&self.sup),
                "query($c:ID!){leads(campaignId:$c,first:100){edges{node{id phone status attempts notBefore firstName customProperties{key value}}}}}",
                json!({"c": campaign}),
            )
            .await;
        data["leads"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    }

    /// The admin of a second organization (made as `create-org` does),
    /// signed in.
    pub async fn other_org_admin(&self) -> String {
        pinline::bootstrap::create_org(
            &self.srv.app.db,
            "Other Co",
            "boss@other.test",
            "other-password",
        )
        .await
        .expect("a second organization");
        self.srv.login("boss@other.test", "other-password").await
    }

    /// GET an export as `token`: status and body.
    pub async fn export(
        &self,
        token: Option<&str>,
        what: &str,
        from: &str,
        to: &str,
    ) -> (u16, String) {
        let url = format!(
            "{}/exports/{what}.csv?campaignId={}&from={from}&to={to}",
            self.srv.url, self.campaign
        );
        let mut req = self.srv.client.get(&url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("export");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// Move the engine's clock on by `secs`, running everything due.
    pub async fn advance(&mut self, secs: i64) {
        self.srv
            .app
            .engine
            .advance(chrono::Duration::seconds(secs))
            .await
            .expect("engine runs");
        self.collect();
    }

    /// Move on in 1-second steps (for checks between steps).
    pub fn collect(&mut self) {
        while let Some(Some(e)) = self.events.next().now_or_never() {
            self.seen.push(e);
        }
    }

    /// The steps published for a call, in order.
    pub fn steps_of(&mut self, call_id: &str) -> Vec<String> {
        self.collect();
        self.seen
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Call { step, call, .. } if call.id == call_id => {
                    Some(step.as_str().to_owned())
                }
                _ => None,
            })
            .collect()
    }

    /// Ids of every call seen, in the order first seen.
    pub fn calls_seen(&mut self) -> Vec<String> {
        self.collect();
        let mut out: Vec<String> = Vec::new();
        for e in &self.seen {
            if let EventKind::Call { call, .. } = &e.kind
                && !out.contains(&call.id)
            {
                out.push(call.id.clone());
            }
        }
        out
    }

    pub async fn wrap_up(&self, i: usize, call_id: &str, code: &str) -> Value {
        self.agent_ok(
            i,
            "mutation($c:ID!,$d:String!){submitWrapUp(input:{callId:$c,dispositionCode:$d,notes:\"ok\"}){wrapUp{id dispositionCode automatic} presence{status}}}",
            json!({"c": call_id, "d": code}),
        )
        .await["submitWrapUp"]
            .clone()
    }

    pub async fn call(&self, id: &str) -> Value {
        self.srv
            .ok(
                Some(&self.sup),
                "query($id:ID!){call(id:$id){id state outcome origin dialer answeredBy agent{id} events{step detail} wrapUp{dispositionCode automatic}}}",
                json!({"id": id}),
            )
            .await["call"]
            .clone()
    }

    pub async fn lead_by_phone(&self, phone: &str) -> Value {
        let data = self
            .srv
            .ok(
                Some(&self.sup),
                "query($c:ID!){leads(campaignId:$c,first:100){edges{node{id phone status attempts lastOutcome notBefore doNotText}}}}",
                json!({"c": self.campaign}),
            )
            .await;
        data["leads"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .find(|n| n["phone"] == phone)
            .unwrap_or_else(|| panic!("no lead {phone}"))
    }

    /// The eligibility verdict of a lead at the engine's time now.
    pub async fn verdict(&self, lead_id: &str) -> String {
        let at = self.srv.app.engine.clock().now().to_rfc3339();
        self.srv
            .ok(
                Some(&self.sup),
                "query($l:ID!,$at:DateTime){eligibility(leadId:$l,at:$at){reason}}",
                json!({"l": lead_id, "at": at}),
            )
            .await["eligibility"]["reason"]
            .as_str()
            .expect("reason")
            .to_owned()
    }

    /// Put a number on the organization's Do-Not-Call list.
    pub async fn add_dnc(&self, phone: &str) {
        self.srv
            .ok(
                Some(&self.sup),
                "mutation($p:String!){addListEntries(input:{list:DO_NOT_CALL,phones:[$p],reason:\"asked\"}){added}}",
                json!({"p": phone}),
            )
            .await;
    }

    /// Calls placed and not yet with an agent, from the store.
    pub async fn calls_awaiting_agent(&self) -> usize {
        pinline::store::calls::open(&self.srv.app.db)
            .await
            .expect("calls")
            .iter()
            .filter(|c| matches!(c.state.as_str(), "DIALING" | "RINGING" | "ANSWERED"))
            .count()
    }

    pub async fn finish(self) {
        self.srv.finish().await
    }
}
