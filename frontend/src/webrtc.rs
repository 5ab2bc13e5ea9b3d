//! The browser pinned leg: when the server's pinned leg for this agent is
//! a BROWSER one, the page opens it with WebRTC — the microphone, one SDP
//! offer sent with `connectPinnedLeg`, the server's answer — and plays
//! what comes back. A reload, or a connection that fails, opens it again
//! on the same leg (the server keeps the leg, and any caller on it, for a
//! while).
//!
//! What the agent hears is also analysed (WebAudio: an AudioWorklet on
//! 1024-sample blocks, Goertzel):
//! each block is silence, one of the tones the tests use (440, 660, 880,
//! 1000 Hz) or other sound, kept run-length encoded on
//! `<body data-heard="silence*40 660*3 880*3 440*55">`; the connection's
//! state is on `<body data-rtc="connected">`. The browser tests read both.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    HtmlAudioElement, MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcPeerConnection,
    RtcPeerConnectionState, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use crate::api::graphql;
use crate::audio;
use crate::model::PinnedLeg;

const CONNECT: &str =
    "mutation($sdp: String!) { connectPinnedLeg(input: {sdpOffer: $sdp}) { sdpAnswer } }";

/// The tones the analysis names.
const TONES: [f64; 4] = [440.0, 660.0, 880.0, 1000.0];
/// Below this (dBFS) a block is silence.
const SILENCE_DB: f64 = -45.0;
/// Runs kept on `data-heard`.
const MAX_RUNS: usize = 400;

struct Open {
    leg: String,
    pc: RtcPeerConnection,
    mic: MediaStream,
    /// Kept alive as long as the connection: its handlers.
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

#[derive(Default)]
struct State {
    open: Option<Open>,
    /// An offer is on its way for this leg.
    opening: Option<String>,
    heard: Vec<(String, u32)>,
    /// The analysis's handler (the worklet module is loaded once).
    analysing: Option<Closure<dyn FnMut(web_sys::MessageEvent)>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// What the page does when the leg cannot be opened (no microphone, the
/// server refused): tell the agent.
pub type OnError = Rc<dyn Fn(String)>;

/// Follow the server's pinned leg: open a browser leg the page does not
/// hold yet, close one the server no longer has.
pub fn follow(leg: Option<&PinnedLeg>, token: String, on_error: OnError) {
    let wanted = leg.filter(|l| l.kind.as_deref() == Some("BROWSER"));
    let Some(leg) = wanted else {
        close();
        return;
    };
    let held = STATE.with(|s| {
        let s = s.borrow();
        s.opening.as_deref() == Some(leg.id.as_str())
            || s.open.as_ref().is_some_and(|o| {
                o.leg == leg.id
                    && !matches!(
                        o.pc.connection_state(),
                        RtcPeerConnectionState::Failed | RtcPeerConnectionState::Closed
                    )
            })
    });
    if held {
        return;
    }
    close();
    let id = leg.id.clone();
    STATE.with(|s| s.borrow_mut().opening = Some(id.clone()));
    spawn_local(async move {
        let result = open(&id, &token).await;
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            if s.opening.as_deref() == Some(id.as_str()) {
                s.opening = None;
            }
        });
        if let Err(e) = result {
            set_body("data-rtc", "failed");
            on_error(e);
        }
    });
}

/// Hang the page's side up (the leg went down, or the agent left).
pub fn close() {
    let open = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.opening = None;
        s.open.take()
    });
    if let Some(o) = open {
        o.pc.close();
        for t in o.mic.get_tracks() {
            if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                t.stop();
            }
        }
        set_body("data-rtc", "closed");
    }
}

fn describe(e: JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return format!(
            "{}: {}",
            String::from(err.name()),
            String::from(err.message())
        );
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

async fn open(leg: &str, token: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let devices = window
        .navigator()
        .media_devices()
        .map_err(|_| "this browser gives no access to a microphone".to_owned())?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let mic: MediaStream = JsFuture::from(
        devices
            .get_user_media_with_constraints(&constraints)
            .map_err(describe)?,
    )
    .await
    .map_err(|e| format!("the microphone is not available ({})", describe(e)))?
    .dyn_into()
    .map_err(|_| "the microphone gave no stream")?;
    let pc = RtcPeerConnection::new().map_err(describe)?;
    for t in mic.get_audio_tracks() {
        if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
            pc.add_track_0(&t, &mic);
        }
    }
    let on_track = Closure::<dyn FnMut(JsValue)>::new(|e: JsValue| {
        if let Ok(e) = e.dyn_into::<RtcTrackEvent>()
            && let Ok(stream) = e.streams().get(0).dyn_into::<MediaStream>()
        {
            play(&stream);
        }
    });
    pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
    let watched = pc.clone();
    let on_state = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        let state = format!("{:?}", watched.connection_state()).to_lowercase();
        set_body("data-rtc", &state);
    });
    pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
    let offer = JsFuture::from(pc.create_offer()).await.map_err(describe)?;
    let sdp = js_sys::Reflect::get(&offer, &"sdp".into())
        .ok()
        .and_then(|s| s.as_string())
        .ok_or("the browser made no SDP offer")?;
    let local = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    local.set_sdp(&sdp);
    JsFuture::from(pc.set_local_description(&local))
        .await
        .map_err(describe)?;
    let data: Value = graphql(CONNECT, json!({ "sdp": sdp }), Some(token))
        .await
        .map_err(|e| e.message)?;
    let answer_sdp = data["connectPinnedLeg"]["sdpAnswer"]
        .as_str()
        .ok_or("the server sent no SDP answer")?;
    let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    answer.set_sdp(answer_sdp);
    JsFuture::from(pc.set_remote_description(&answer))
        .await
        .map_err(describe)?;
    STATE.with(|s| {
        s.borrow_mut().open = Some(Open {
            leg: leg.to_owned(),
            pc,
            mic,
            _handlers: vec![on_track, on_state],
        })
    });
    Ok(())
}

/// Play the leg through an `<audio>` element (Chrome feeds WebAudio from a
/// remote stream only while one plays it) and analyse it.
fn play(stream: &MediaStream) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let el = match doc.get_element_by_id("pinned-leg-audio") {
        Some(el) => el,
        None => {
            let Ok(el) = doc.create_element("audio") else {
                return;
            };
            el.set_id("pinned-leg-audio");
            if let Some(body) = doc.body() {
                let _ = body.append_child(&el);
            }
            el
        }
    };
    if let Ok(audio_el) = el.dyn_into::<HtmlAudioElement>() {
        audio_el.set_autoplay(true);
        audio_el.set_src_object(Some(stream));
        let _ = audio_el.play();
    }
    analyse(stream);
}

/// The analysis, in an AudioWorklet: it runs on the audio thread, so a
/// busy page misses no block (its results queue on the port).
const WORKLET: &str = r#"
class Heard extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Float32Array(1024); this.n = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    const len = ch ? ch.length : 128;
    for (let i = 0; i < len; i++) {
      this.buf[this.n++] = ch ? ch[i] : 0;
      if (this.n === this.buf.length) { this.port.postMessage(classify(this.buf)); this.n = 0; }
    }
    return true;
  }
}
function classify(b) {
  let e = 0;
  for (const x of b) e += x * x;
  if (20 * Math.log10(Math.max(Math.sqrt(e / b.length), 1e-9)) < SILENCE_DB) return 'silence';
  let best = 0, share = 0;
  for (const hz of TONES) {
    const c = 2 * Math.cos(2 * Math.PI * hz / sampleRate);
    let s1 = 0, s2 = 0;
    for (const x of b) { const s0 = x + c * s1 - s2; s2 = s1; s1 = s0; }
    const p = 2 * (s1 * s1 + s2 * s2 - c * s1 * s2) / b.length / e;
    if (p > share) { share = p; best = hz; }
  }
  return share > 0.5 ? String(best) : 'sound';
}
registerProcessor('pinline-heard', Heard);
"#;

fn analyse(stream: &MediaStream) {
    let stream = stream.clone();
    spawn_local(async move {
        if let Err(e) = analyse_with_worklet(&stream).await {
            web_sys::console::warn_1(
                &format!("audio analysis unavailable: {}", describe(e)).into(),
            );
        }
    });
}

async fn analyse_with_worklet(stream: &MediaStream) -> Result<(), JsValue> {
    let ctx = audio::context().ok_or("no AudioContext")?;
    audio::unlock();
    let loaded = STATE.with(|s| s.borrow().analysing.is_some());
    if !loaded {
        let code = WORKLET
            .replace("SILENCE_DB", &SILENCE_DB.to_string())
            .replace("TONES", &format!("{TONES:?}"));
        let parts = js_sys::Array::of1(&JsValue::from_str(&code));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("application/javascript");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        JsFuture::from(ctx.audio_worklet()?.add_module(&url)?).await?;
    }
    let source = ctx.create_media_stream_source(stream)?;
    let node = web_sys::AudioWorkletNode::new(&ctx, "pinline-heard")?;
    let on_block = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
        if let Some(kind) = e.data().as_string() {
            record(kind);
        }
    });
    node.port()?
        .set_onmessage(Some(on_block.as_ref().unchecked_ref()));
    // Through a silent gain to the output, so the graph pulls it; the
    // agent hears the `<audio>` element alone.
    let quiet = ctx.create_gain()?;
    quiet.gain().set_value(0.0);
    source.connect_with_audio_node(&node)?;
    node.connect_with_audio_node(&quiet)?;
    quiet.connect_with_audio_node(&ctx.destination())?;
    STATE.with(|s| s.borrow_mut().analysing = Some(on_block));
    Ok(())
}

fn record(kind: String) {
    let text = STATE.with(|s| {
        let mut s = s.borrow_mut();
        match s.heard.last_mut() {
            Some((k, n)) if *k == kind => *n += 1,
            _ => s.heard.push((kind, 1)),
        }
        if s.heard.len() > MAX_RUNS {
            s.heard.remove(0);
        }
        s.heard
            .iter()
            .map(|(k, n)| format!("{k}*{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    });
    set_body("data-heard", &text);
}

fn set_body(attr: &str, value: &str) {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute(attr, value);
    }
}
