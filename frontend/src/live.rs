//! One live connection to `/graphql/ws` speaking `graphql-transport-ws`:
//! `connection_init` with the token, one or more subscriptions over it,
//! pongs for the server's pings. When the socket drops it reconnects by itself (0.5 s,
//! doubling to 8 s) and subscribes again; the subscription starts with the
//! current state, so the page re-syncs without a reload. While it is down
//! the page says "reconnecting" and holds its controls.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// The state of the live connection, for the page to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// The first connection is being made.
    Connecting,
    /// Subscribed: what the page shows is live.
    Open,
    /// It dropped; trying again.
    Reconnecting,
    /// The server refused the token: the user must sign in again.
    SignedOut,
}

/// What the owner of the connection hears.
pub struct Handlers {
    /// Each `next` payload's `data`, with the index of its subscription.
    pub on_data: Box<dyn Fn(usize, Value)>,
    /// Subscribed (again): the moment to re-sync anything the stream
    /// does not carry.
    pub on_subscribed: Box<dyn Fn()>,
    /// A subscription error, in the server's words.
    pub on_error: Box<dyn Fn(String)>,
}

struct Inner {
    url: String,
    token: String,
    /// Each subscription: its query and variables.
    subscriptions: Vec<(String, Value)>,
    /// Shared so a handler runs with no borrow held: it may stop or
    /// replace this very connection.
    handlers: Rc<Handlers>,
    link: RwSignal<Link>,
    socket: Option<WebSocket>,
    attempt: u32,
    stopped: bool,
    on_open: Option<Closure<dyn FnMut()>>,
    on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
    on_close: Option<Closure<dyn FnMut(CloseEvent)>>,
}

/// A live subscription that keeps itself connected. Dropping the last
/// handle does not close it: call [`Live::stop`].
#[derive(Clone)]
pub struct Live {
    inner: Rc<RefCell<Inner>>,
    pub link: RwSignal<Link>,
}

/// `ws://host/graphql/ws` for the page's own origin.
fn endpoint() -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_else(|_| "127.0.0.1:8080".into());
    format!("{scheme}://{host}/graphql/ws")
}

impl Live {
    /// One subscription without variables.
    pub fn start(token: String, query: String, handlers: Handlers) -> Live {
        Self::start_many(token, vec![(query, Value::Null)], handlers)
    }

    /// Several subscriptions over the one connection; `on_data` is told
    /// which (by index).
    pub fn start_many(
        token: String,
        subscriptions: Vec<(String, Value)>,
        handlers: Handlers,
    ) -> Live {
        Self::start_on(
            RwSignal::new(Link::Connecting),
            token,
            subscriptions,
            handlers,
        )
    }

    /// …reporting its state on the page's own `link` signal (a page that
    /// replaces its connection keeps one signal).
    pub fn start_on(
        link: RwSignal<Link>,
        token: String,
        subscriptions: Vec<(String, Value)>,
        handlers: Handlers,
    ) -> Live {
        link.set(Link::Connecting);
        let live = Live {
            inner: Rc::new(RefCell::new(Inner {
                url: endpoint(),
                token,
                subscriptions,
                handlers: Rc::new(handlers),
                link,
                socket: None,
                attempt: 0,
                stopped: false,
                on_open: None,
                on_message: None,
                on_close: None,
            })),
            link,
        };
        live.connect();
        live
    }

    /// Close for good (the page is going away or the user signed out).
    pub fn stop(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.stopped = true;
        if let Some(s) = inner.socket.take() {
            let _ = s.close();
        }
    }

    fn connect(&self) {
        let url = self.inner.borrow().url.clone();
        let socket = match WebSocket::new_with_str(&url, "graphql-transport-ws") {
            Ok(s) => s,
            Err(_) => {
                self.retry_later();
                return;
            }
        };
        let me = self.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            let inner = me.inner.borrow();
            let init = json!({"type": "connection_init", "payload": {"token": inner.token}});
            if let Some(s) = &inner.socket {
                let _ = s.send_with_str(&init.to_string());
            }
        });
        let me = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(text) = ev.data().as_string()
                && let Ok(msg) = serde_json::from_str::<Value>(&text)
            {
                me.message(msg);
            }
        });
        let me = self.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            me.closed(ev.code());
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.inner.borrow_mut();
        inner.socket = Some(socket);
        inner.on_open = Some(on_open);
        inner.on_message = Some(on_message);
        inner.on_close = Some(on_close);
    }

    fn send(&self, msg: Value) {
        if let Some(s) = &self.inner.borrow().socket {
            let _ = s.send_with_str(&msg.to_string());
        }
    }

    /// The handlers, with the borrow already released.
    fn handlers(&self) -> Rc<Handlers> {
        Rc::clone(&self.inner.borrow().handlers)
    }

    fn message(&self, msg: Value) {
        match msg["type"].as_str() {
            Some("connection_ack") => {
                let subscriptions = self.inner.borrow().subscriptions.clone();
                for (i, (query, variables)) in subscriptions.into_iter().enumerate() {
                    self.send(json!({"id": (i + 1).to_string(), "type": "subscribe",
                                     "payload": {"query": query, "variables": variables}}));
                }
                let link = {
                    let mut inner = self.inner.borrow_mut();
                    inner.attempt = 0;
                    inner.link
                };
                link.set(Link::Open);
                (self.handlers().on_subscribed)();
            }
            Some("ping") => self.send(json!({"type": "pong"})),
            Some("next") => {
                let payload = &msg["payload"];
                let index = msg["id"]
                    .as_str()
                    .and_then(|id| id.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1))
                    .unwrap_or(0);
                if let Some(err) = payload["errors"].get(0) {
                    let text = err["message"].as_str().unwrap_or("error").to_owned();
                    (self.handlers().on_error)(text);
                }
                if !payload["data"].is_null() {
                    (self.handlers().on_data)(index, payload["data"].clone());
                }
            }
            Some("error") => {
                let text = msg["payload"][0]["message"]
                    .as_str()
                    .unwrap_or("the live updates stopped")
                    .to_owned();
                (self.handlers().on_error)(text);
            }
            _ => {}
        }
    }

    fn closed(&self, code: u16) {
        let (stopped, link) = {
            let mut inner = self.inner.borrow_mut();
            inner.socket = None;
            (inner.stopped, inner.link)
        };
        if stopped {
            return;
        }
        // 4401/4403: the server refused the token (expired, revoked).
        if code == 4401 || code == 4403 {
            link.set(Link::SignedOut);
            return;
        }
        link.set(Link::Reconnecting);
        self.retry_later();
    }

    fn retry_later(&self) {
        let attempt = {
            let mut inner = self.inner.borrow_mut();
            inner.attempt = (inner.attempt + 1).min(5);
            inner.attempt
        };
        let delay = Duration::from_millis(250 << attempt).min(Duration::from_secs(8));
        let me = self.clone();
        set_timeout(
            move || {
                if !me.inner.borrow().stopped {
                    me.connect();
                }
            },
            delay,
        );
    }
}
