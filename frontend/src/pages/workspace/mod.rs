//! The agent workspace (PRODUCT.md §2): status, the dialer banner and the
//! pinned leg, the conversation with its screen pop and controls, preview
//! Dial/Skip, the wrap-up, a dial pad and recent calls. Everything on it
//! follows one `agentEvents` subscription; what the stream does not carry
//! (recent calls, the running campaign) is re-read when it (re)connects.

mod call;
mod idle;
mod screenpop;
mod status;
mod wrapup;

pub use status::status_words;

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

pub use super::shell::Center;
use super::shell::ShellCtx;
use crate::api::graphql;
use crate::live::{Handlers, Link, Live};
use crate::model::{self, AgentEvent, Call, CampaignRef, Presence};
use crate::{audio, time};

const GO_BREAK: &str = "mutation($cc: ID!, $reason: String) { \
     setAgentStatus(input: {contactCenterId: $cc, status: BREAK, reason: $reason}) { presence { status } } }";

/// A BROWSER pinned leg is opened (and reopened after a reload) by this
/// page. If it cannot be (no microphone, refused), the agent is told, and
/// an AVAILABLE agent goes on Break with the reason: nobody should be
/// sent calls they cannot hear.
fn follow_browser_leg(ws: Ws) {
    let on_error: crate::webrtc::OnError = std::rc::Rc::new(move |why: String| {
        ws.error
            .set(Some(format!("Your audio could not connect: {why}.")));
        let status = ws
            .presence
            .with_untracked(|p| p.as_ref().map(|p| p.status.clone()));
        if status.as_deref() == Some("AVAILABLE") {
            let cc = ws.center.get_value().id;
            let reason: String = format!("Audio: {why}").chars().take(200).collect();
            let token = ws.token.get_value();
            spawn_local(async move {
                let _ =
                    graphql::<Value>(GO_BREAK, json!({"cc": cc, "reason": reason}), Some(&token))
                        .await;
            });
        }
    });
    Effect::new(move |_| {
        let leg = ws
            .presence
            .with(|p| p.as_ref().and_then(|p| p.pinned_leg.clone()));
        crate::webrtc::follow(leg.as_ref(), ws.token.get_value(), on_error.clone());
    });
}

/// One of the agent's recent calls.
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Recent {
    pub id: String,
    pub phone: String,
    pub dialer: bool,
    pub origin: String,
    pub created_at: String,
    pub outcome: Option<String>,
    pub lead: Option<RecentLead>,
    pub wrap_up: Option<model::PastWrapUp>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecentLead {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// The workspace's shared state (a `Copy` handle in the context).
#[derive(Clone, Copy)]
pub struct Ws {
    pub me: StoredValue<String>,
    pub token: StoredValue<String>,
    pub center: StoredValue<Center>,
    pub presence: RwSignal<Option<Presence>>,
    pub link: RwSignal<Link>,
    /// Ticks every second (clocks, countdowns).
    pub now: RwSignal<f64>,
    pub running: RwSignal<Option<CampaignRef>>,
    pub recent: RwSignal<Vec<Recent>>,
    /// The last thing that went wrong, in words.
    pub error: RwSignal<Option<String>>,
    /// How many `PresenceChanged` arrived: a re-sync over HTTP only
    /// applies when none came while it was in flight.
    seq: RwSignal<u64>,
}

const MY_CALLS: &str = "query { myCalls(first: 10) { id phone dialer origin createdAt outcome \
     lead { firstName lastName } wrapUp { dispositionCode notes } } }";
const RUNNING: &str = "query($id: ID!) { contactCenter(id: $id) { runningCampaign { id name dialMode wrapUpLimitSeconds } } }";

impl Ws {
    /// Whether the view is live (controls usable).
    pub fn live(&self) -> bool {
        self.link.get() == Link::Open
    }

    /// Run an operation; its error (if any) is shown in words; `done`
    /// gets the data.
    pub fn run(&self, query: &'static str, vars: Value, done: impl FnOnce(Value) + 'static) {
        let ws = *self;
        let token = self.token.get_value();
        ws.error.set(None);
        spawn_local(async move {
            match graphql::<Value>(query, vars, Some(&token)).await {
                Ok(data) => done(data),
                Err(e) => ws.error.set(Some(e.for_people())),
            }
        });
    }

    fn refresh_recent(&self) {
        let ws = *self;
        self.run(MY_CALLS, json!({}), move |data| {
            if let Ok(list) = serde_json::from_value::<Vec<Recent>>(data["myCalls"].clone()) {
                ws.recent.set(list);
            }
        });
    }

    fn refresh_running(&self) {
        let ws = *self;
        let token = self.token.get_value();
        let id = self.center.get_value().id;
        spawn_local(async move {
            if let Ok(data) = graphql::<Value>(RUNNING, json!({"id": id}), Some(&token)).await {
                let running = serde_json::from_value::<Option<CampaignRef>>(
                    data["contactCenter"]["runningCampaign"].clone(),
                )
                .ok()
                .flatten();
                ws.running.set(running);
            }
        });
    }

    fn resync_presence(&self) {
        let ws = *self;
        let token = self.token.get_value();
        let asked_at = self.seq.get_untracked();
        let query = format!(
            "query {{ myPresence {{ {} }} }}",
            model::presence_selection()
        );
        spawn_local(async move {
            if let Ok(data) = graphql::<Value>(&query, json!({}), Some(&token)).await
                && let Ok(p) = serde_json::from_value::<Presence>(data["myPresence"].clone())
                && ws.seq.get_untracked() == asked_at
            {
                ws.presence.set(Some(p));
            }
        });
    }

    fn apply(&self, event: AgentEvent) {
        match event {
            AgentEvent::PresenceChanged { presence } => {
                self.seq.update(|s| *s += 1);
                let before = self.presence.get_untracked();
                let calls = |p: &Option<Presence>| {
                    p.as_ref().map(|p| {
                        (
                            p.active_call.as_ref().map(|c| c.id.clone()),
                            p.wrap_up_call.as_ref().map(|c| c.id.clone()),
                        )
                    })
                };
                let presence = *presence;
                let changed_calls = calls(&before) != calls(&Some(presence.clone()));
                let changed_status =
                    before.as_ref().map(|p| p.status.as_str()) != Some(presence.status.as_str());
                self.presence.set(Some(presence));
                if changed_calls {
                    self.refresh_recent();
                }
                // The campaign may have started or stopped meanwhile.
                if changed_status {
                    self.refresh_running();
                }
            }
            AgentEvent::PinnedLegChanged { pinned_leg } => {
                self.presence.update(|p| {
                    if let Some(p) = p {
                        p.pinned_leg = pinned_leg;
                    }
                });
            }
            AgentEvent::CallEvent { step, detail, call } => {
                match step.as_str() {
                    // A browser leg carries the server's own tone.
                    "TONE" if !self.browser_leg() => audio::connect_tone(),
                    "TRANSFER_FAILED" => self.error.set(Some(format!(
                        "The transfer did not go through{}. The caller is still with you.",
                        detail.map(|d| format!(" ({d})")).unwrap_or_default()
                    ))),
                    _ => {}
                }
                let mut known = false;
                self.presence.update(|p| {
                    if let Some(p) = p {
                        for slot in [&mut p.active_call, &mut p.wrap_up_call, &mut p.offered_call] {
                            if slot.as_ref().is_some_and(|c| c.id == call.id) {
                                *slot = Some((*call).clone());
                                known = true;
                            }
                        }
                    }
                });
                // A call this view does not hold yet (a preview offered to
                // this agent, a transfer to them), or one that ended: the
                // server says where it belongs now.
                if !known || call.state == "ENDED" {
                    self.resync_presence();
                }
            }
        }
    }

    /// Whether the pinned leg is this page's WebRTC one.
    fn browser_leg(&self) -> bool {
        self.presence.with_untracked(|p| {
            p.as_ref()
                .and_then(|p| p.pinned_leg.as_ref())
                .is_some_and(|l| l.kind.as_deref() == Some("BROWSER"))
        })
    }

    /// The call the conversation view shows, if any.
    pub fn active(&self) -> Option<Call> {
        self.presence
            .with(|p| p.as_ref().and_then(|p| p.active_call.clone()))
    }

    pub fn status(&self) -> String {
        self.presence
            .with(|p| p.as_ref().map(|p| p.status.clone()))
            .unwrap_or_else(|| "OFFLINE".into())
    }
}

#[component]
pub fn Workspace(me: String, center: Center, token: String) -> impl IntoView {
    let ws = Ws {
        me: StoredValue::new(me),
        token: StoredValue::new(token.clone()),
        center: StoredValue::new(center),
        presence: RwSignal::new(None),
        link: RwSignal::new(Link::Connecting),
        now: RwSignal::new(time::now_ms()),
        running: RwSignal::new(None),
        recent: RwSignal::new(Vec::new()),
        error: RwSignal::new(None),
        seq: RwSignal::new(0),
    };
    provide_context(ws);

    let live = Live::start(
        token,
        model::agent_events_subscription(),
        Handlers {
            on_data: Box::new(move |_, data| {
                match serde_json::from_value::<AgentEvent>(data["agentEvents"].clone()) {
                    Ok(e) => ws.apply(e),
                    Err(e) => ws.error.set(Some(format!(
                        "The live view got an update it cannot read ({e})."
                    ))),
                }
            }),
            on_subscribed: Box::new(move || {
                ws.resync_presence();
                ws.refresh_recent();
                ws.refresh_running();
            }),
            on_error: Box::new(move |text| ws.error.set(Some(crate::api::capitalize(&text)))),
        },
    );
    // The page's link state mirrors the connection's.
    let link = live.link;
    Effect::new(move |_| ws.link.set(link.get()));
    let live = StoredValue::new_local(live);
    on_cleanup(move || {
        let _ = live.try_with_value(Live::stop);
    });

    if let Ok(h) =
        set_interval_with_handle(move || ws.now.set(time::now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || h.clear());
    }
    if let Ok(h) = set_interval_with_handle(move || ws.refresh_running(), Duration::from_secs(10)) {
        on_cleanup(move || h.clear());
    }
    call::shortcuts(ws);
    follow_browser_leg(ws);
    on_cleanup(crate::webrtc::close);

    let main = move || {
        let p = ws.presence.get();
        let offered = p.as_ref().and_then(|p| p.offered_call.clone());
        let active = p.as_ref().and_then(|p| p.active_call.clone());
        let wrap = p.as_ref().and_then(|p| p.wrap_up_call.clone());
        // Keyed by call: a new call gets a fresh panel (its own form state).
        if let Some(c) = active {
            (c.id.clone(), "call")
        } else if let Some(c) = wrap {
            (c.id.clone(), "wrap")
        } else if let Some(c) = offered {
            (c.id.clone(), "preview")
        } else {
            (String::new(), "idle")
        }
    };
    let main = Memo::new(move |_| main());

    view! {
        <div class="workspace" data-link=move || format!("{:?}", ws.link.get()).to_lowercase()>
            <LinkBanner/>
            <section class="bar" aria-label="Status and dialer">
                <status::StatusControl/>
                <status::DialerBanner/>
            </section>
            {move || ws.error.get().map(|e| view! {
                <p class="error" role="alert">
                    {e}
                    <button class="link" aria-label="Dismiss the message" on:click=move |_| ws.error.set(None)>"×"</button>
                </p>
            })}
            <div class="panes">
                <section class="main-pane" aria-label="Conversation">
                    {move || match main.get() {
                        (_, "call") => view! { <call::CallView/> }.into_any(),
                        (_, "wrap") => view! { <wrapup::WrapUpPanel/> }.into_any(),
                        (_, "preview") => view! { <call::PreviewCard/> }.into_any(),
                        _ => view! { <idle::Idle/> }.into_any(),
                    }}
                </section>
                <aside class="side-pane" aria-label="Lead details">
                    <screenpop::ScreenPop/>
                </aside>
            </div>
        </div>
    }
}

/// "Reconnecting…" while the live connection is down.
#[component]
fn LinkBanner() -> impl IntoView {
    let ws = expect_context::<Ws>();
    move || {
        match ws.link.get() {
        Link::Open => None,
        Link::Connecting => Some(view! {
            <p class="banner link-state" role="status">"Connecting to Pinline…"</p>
        }.into_any()),
        Link::Reconnecting => Some(view! {
            <p class="banner link-state warn" role="status" id="reconnecting">
                "Reconnecting… The connection to Pinline dropped; this view will catch up by itself."
            </p>
        }.into_any()),
        Link::SignedOut => Some(view! {
            <p class="banner link-state warn" role="alert">
                "Your session has ended. " <a href="/login">"Sign in again"</a>
            </p>
        }.into_any()),
    }
    }
}

/// The agents' app under the shell: the workspace in the chosen contact
/// center. Supervisors and admins are sent to their own app.
pub fn for_shell(ctx: ShellCtx) -> AnyView {
    if ctx.supervises() {
        request_animation_frame(|| crate::session::open("/floor"));
        return view! { <main class="center"><p>"Opening the live floor…"</p></main> }.into_any();
    }
    let ShellCtx {
        me_id,
        center,
        token,
        ..
    } = ctx;
    view! {
        <main class="content wide">
            {move || match center.get() {
                Some(c) => view! { <Workspace me=me_id.clone() center=c token=token.clone()/> }.into_any(),
                None => no_center(),
            }}
        </main>
    }
    .into_any()
}

/// For a user who belongs to no contact center yet.
pub fn no_center() -> AnyView {
    view! {
        <p class="muted">"You are not a member of any contact center yet. Ask your admin to add you."</p>
    }
    .into_any()
}
