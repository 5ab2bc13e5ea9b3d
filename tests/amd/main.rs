//! Answering-machine detection against a labelled set this test makes:
//! Debian's `espeak-ng` speaks short human greetings and long voicemail
//! greetings in eight voices at three speeds, some greetings end in a
//! 1 kHz beep, `sox` resamples to 8 kHz, pads the lead-in and the silence
//! after, and mixes white noise at three levels. The audio reaches the
//! detector as μ-law in 20-ms packets, as it would off RTP.
//!
//! `cargo test -p pinline-tests --test amd -- --nocapture` prints the
//! accuracy per class and the median decision time.

use std::path::Path;
use std::process::Command;

use pinline::media::amd::{Amd, AmdSettings, AmdVerdict};
use pinline::media::g711;

const VOICES: [&str; 8] = [
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-029",
    "en-us+f3",
    "en-gb+f2",
    "en-us+m3",
    "en-gb-x-rp+f4",
];

const HUMAN: [&str; 8] = [
    "Hello?",
    "Hi.",
    "Yes?",
    "Hello, who is this?",
    "Hi, this is Sam.",
    "Good morning.",
    "Hello, Maria speaking.",
    "Yeah, hello?",
];

const MACHINE: [&str; 6] = [
    "Hi, you have reached the Johnson family. We can't come to the phone right now, please leave a message after the tone.",
    "The person you are calling is not available. Please leave your message after the beep.",
    "Hello, this is Mark. I'm away from my desk at the moment. Leave your name and number and I'll call you back.",
    "You've reached five five five, zero one three four. Please leave a message.",
    "Thank you for calling. Nobody is available to take your call. Record your message at the tone.",
    "Hi, it's Jenny, sorry I missed you, leave a message and I'll get back to you.",
];

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run ({e}): `./dev setup` installs it"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Sample {
    human: bool,
    label: String,
    audio: Vec<i16>,
}

/// `sox` with its arguments as one line (the temp paths have no spaces).
fn sox(args: &str) {
    run("sox", &args.split_whitespace().collect::<Vec<_>>());
}

/// One greeting as the lead's side of the call: `lead` seconds of line
/// noise, the greeting, maybe a beep, four seconds of noise.
fn make(dir: &Path, i: usize, voice: &str, text: &str, human: bool) -> Sample {
    let noise = ["0", "0.01", "0.03"][i % 3];
    let speed = ["150", "175", "190"][i % 3];
    let lead = ["0.2", "0.4", "0.7"][(i / 3) % 3];
    let beep = !human && i.is_multiple_of(2);
    let p = |s: &str| dir.join(format!("{i}.{s}")).to_string_lossy().into_owned();
    const MONO_8K: &str = "-r 8000 -c 1 -b 16";
    const RAW: &str = "-t raw -e signed-integer -b 16";
    run(
        "espeak-ng",
        &["-v", voice, "-s", speed, "-w", &p("said.wav"), text],
    );
    sox(&format!(
        "{} {MONO_8K} {} pad {lead} 0",
        p("said.wav"),
        p("led.wav")
    ));
    let mut spoken = p("led.wav");
    if beep {
        sox(&format!(
            "-n {MONO_8K} {} synth 0.5 sine 1000 vol 0.4",
            p("beep.wav")
        ));
        sox(&format!("{spoken} {} {}", p("beep.wav"), p("beeped.wav")));
        spoken = p("beeped.wav");
    }
    sox(&format!("{spoken} {} pad 0 4", p("padded.wav")));
    let raw = p("raw");
    if noise == "0" {
        sox(&format!("{} {RAW} {raw}", p("padded.wav")));
    } else {
        let out = Command::new("soxi")
            .args(["-D", &p("padded.wav")])
            .output()
            .expect("soxi runs");
        let secs = String::from_utf8_lossy(&out.stdout).trim().to_string();
        sox(&format!(
            "-n {MONO_8K} {} synth {secs} whitenoise vol {noise}",
            p("noise.wav")
        ));
        sox(&format!(
            "-m {} {} {RAW} {raw}",
            p("padded.wav"),
            p("noise.wav")
        ));
    }
    let bytes = std::fs::read(&raw).expect("sox wrote the audio");
    let audio = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    Sample {
        human,
        label: format!(
            "{} {voice} speed {speed} noise {noise}{}: {text:.40}",
            if human { "human" } else { "machine" },
            if beep { " beep" } else { "" }
        ),
        audio,
    }
}

#[test]
fn amd_tells_people_from_machines_on_spoken_greetings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut samples = Vec::new();
    let mut i = 0;
    for voice in VOICES {
        for (texts, human) in [(&HUMAN[..], true), (&MACHINE[..], false)] {
            for text in texts {
                i += 1;
                samples.push(make(dir.path(), i, voice, text, human));
            }
        }
    }
    let (mut right, mut total) = ([0u32; 2], [0u32; 2]);
    let mut times = Vec::new();
    let mut by_class: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    let mut wrong = Vec::new();
    for s in &samples {
        // As off RTP: μ-law, 160 bytes a packet.
        let ulaw: Vec<u8> = s.audio.iter().map(|x| g711::linear_to_ulaw(*x)).collect();
        let mut amd = Amd::new(AmdSettings::default());
        let d = ulaw
            .chunks(g711::SAMPLES_PER_PACKET)
            .find_map(|p| amd.push_ulaw(p))
            .unwrap_or_else(|| panic!("no decision for {}", s.label));
        let k = usize::from(!s.human);
        total[k] += 1;
        if (d.verdict == AmdVerdict::Human) == s.human {
            right[k] += 1;
        } else {
            wrong.push(format!(
                "{} → {:?} at {} ms ({})",
                s.label, d.verdict, d.at_ms, d.why
            ));
        }
        assert!(d.at_ms <= 3000, "decided late: {} {d:?}", s.label);
        times.push(d.at_ms);
        by_class[k].push(d.at_ms);
    }
    let median_of = |v: &mut Vec<u32>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let (people_ms, machines_ms) = {
        let [a, b] = &mut by_class;
        (median_of(a), median_of(b))
    };
    times.sort_unstable();
    let median = times[times.len() / 2];
    let share = |k: usize| f64::from(right[k]) / f64::from(total[k]);
    println!(
        "AMD: people {}/{} ({:.1} %), machines {}/{} ({:.1} %), median decision {median} ms after answer (people {people_ms}, machines {machines_ms})",
        right[0],
        total[0],
        share(0) * 100.0,
        right[1],
        total[1],
        share(1) * 100.0
    );
    for w in &wrong {
        println!("  wrong: {w}");
    }
    assert_eq!(total, [64, 48]);
    assert!(share(0) >= 0.9, "people: {wrong:#?}");
    assert!(share(1) >= 0.9, "machines: {wrong:#?}");
    assert!(median <= 3000);
}
