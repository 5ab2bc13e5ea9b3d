//! The connect tone, played with WebAudio when the dialer connects a lead
//! (the `sim` provider carries no audio; a real media provider plays it in
//! the call's audio instead). Every tone played is counted on
//! `<body data-tones="N">`, which the browser tests read.

use std::cell::RefCell;

use web_sys::{AudioContext, AudioContextState, OscillatorType};

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
    static PLAYED: RefCell<u32> = const { RefCell::new(0) };
}

pub fn context() -> Option<AudioContext> {
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = AudioContext::new().ok();
        }
        c.clone()
    })
}

/// Call from a click: browsers only let a page start audio after the user
/// touched it, so the first click (going Available) unlocks the tone.
pub fn unlock() {
    if let Some(ctx) = context()
        && ctx.state() == AudioContextState::Suspended
    {
        let _ = ctx.resume();
    }
}

/// Two short beeps (880 Hz), then count it.
pub fn connect_tone() {
    let played =
        context().is_some_and(|ctx| beep(&ctx, 0.0).is_some() && beep(&ctx, 0.18).is_some());
    if played {
        let n = PLAYED.with(|p| {
            *p.borrow_mut() += 1;
            *p.borrow()
        });
        if let Some(body) = leptos::prelude::document().body() {
            let _ = body.set_attribute("data-tones", &n.to_string());
        }
    }
}

fn beep(ctx: &AudioContext, offset: f64) -> Option<()> {
    let osc = ctx.create_oscillator().ok()?;
    let gain = ctx.create_gain().ok()?;
    osc.set_type(OscillatorType::Sine);
    osc.frequency().set_value(880.0);
    let start = ctx.current_time() + offset;
    gain.gain().set_value_at_time(0.0, start).ok()?;
    gain.gain()
        .linear_ramp_to_value_at_time(0.25, start + 0.01)
        .ok()?;
    gain.gain()
        .linear_ramp_to_value_at_time(0.0, start + 0.12)
        .ok()?;
    osc.connect_with_audio_node(&gain).ok()?;
    gain.connect_with_audio_node(&ctx.destination()).ok()?;
    osc.start_with_when(start).ok()?;
    osc.stop_with_when(start + 0.13).ok()?;
    Some(())
}
