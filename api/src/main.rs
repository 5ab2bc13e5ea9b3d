//! The `pinline` command line: serve, migrate, seed-demo, create-org,
//! export-schema. The only place that uses `anyhow`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pinline::app::App;
use pinline::bootstrap::{self, DemoSeed};
use pinline::config::Config;
use pinline::store::{Db, DbTarget};

#[derive(Parser)]
#[command(
    name = "pinline",
    version,
    about = "Pinline: an outbound dialer for contact centers"
)]
struct Cli {
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "PINLINE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Where the embedded database, the signing secret and demo logins live.
    #[arg(long, env = "PINLINE_DATA_DIR", default_value = "pinline-data")]
    data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; without it the SQLite file in the
    /// data dir is used.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

impl DbArgs {
    fn target(&self) -> DbTarget {
        DbTarget::resolve(self.database_url.as_deref(), &self.data_dir)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Media {
    /// The built-in simulated carrier.
    Sim,
    /// Real calls over a SIP trunk (see docs/telephony.md).
    Sip,
}

/// The `sip` provider's settings (`--media sip`).
#[derive(Args)]
struct SipArgs {
    /// The SIP trunk leads are called through, host[:port] (UDP).
    #[arg(long, env = "PINLINE_SIP_TRUNK")]
    sip_trunk: Option<String>,
    /// Local address of the SIP socket; RTP binds on the same IP.
    #[arg(long, env = "PINLINE_SIP_BIND", default_value = "0.0.0.0:5060")]
    sip_bind: SocketAddr,
    /// The address the far ends reach this server at (NAT: the public IP).
    #[arg(long, env = "PINLINE_SIP_PUBLIC_IP")]
    sip_public_ip: Option<std::net::IpAddr>,
    /// Digest user name for the trunk.
    #[arg(long, env = "PINLINE_SIP_USERNAME")]
    sip_username: Option<String>,
    /// Digest password for the trunk.
    #[arg(long, env = "PINLINE_SIP_PASSWORD", hide_env_values = true)]
    sip_password: Option<String>,
    /// RTP ports, LOW-HIGH (two per call: one lead leg, and each agent's
    /// pinned leg).
    #[arg(long, env = "PINLINE_RTP_PORTS", default_value = "20000-20999")]
    rtp_ports: String,
    /// SIP toward the trunk over `udp` or `tcp` (agents' phones: UDP).
    #[arg(long, env = "PINLINE_SIP_TRANSPORT", default_value = "udp", value_parser = ["udp", "tcp"])]
    sip_transport: String,
    /// Seconds without RTP after which an answered leg is over.
    #[arg(long, env = "PINLINE_RTP_TIMEOUT_SECS", default_value_t = 30)]
    rtp_timeout_secs: u64,
    /// An agent's phone, LOGIN=URI: LOGIN is the agent's login email (or
    /// user id, or `*` for everyone else, with `{login}` in the URI
    /// standing for the part of the email before `@`); the server calls
    /// URI for the agent's pinned leg. Repeat, or separate with commas.
    #[arg(
        long = "sip-agent-phone",
        env = "PINLINE_SIP_AGENT_PHONES",
        value_delimiter = ','
    )]
    sip_agent_phones: Vec<String>,
    /// Agents with no phone set open their pinned leg from the workspace
    /// page (WebRTC): seconds the page has to connect it, or to bring it
    /// back after it drops (a reload), before the agent is put on Break.
    #[arg(long, env = "PINLINE_BROWSER_WAIT_SECS", default_value_t = 20)]
    browser_wait_secs: u64,
    /// Answering-machine detection on answered leads (adds up to 3 s
    /// before a person reaches an agent; machines get the voicemail
    /// branch instead of an agent).
    #[arg(long, env = "PINLINE_AMD")]
    amd: bool,
}

impl SipArgs {
    fn config(&self) -> Result<pinline::media::sip::SipConfig> {
        let trunk = self
            .sip_trunk
            .as_deref()
            .context("--media sip needs --sip-trunk HOST[:PORT]")?;
        let mut c = pinline::media::sip::SipConfig::new(self.sip_bind, trunk);
        c.public_ip = self.sip_public_ip;
        c.username = self.sip_username.clone();
        c.password = self.sip_password.clone();
        let (lo, hi) = self
            .rtp_ports
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
            .with_context(|| format!("--rtp-ports {:?}: expected LOW-HIGH", self.rtp_ports))?;
        c.rtp_ports = (lo, hi);
        c.rtp_timeout = Duration::from_secs(self.rtp_timeout_secs.max(1));
        c.browser_wait = Duration::from_secs(self.browser_wait_secs.max(1));
        c.transport = if self.sip_transport == "tcp" {
            pinline::media::sip::SipTransport::Tcp
        } else {
            pinline::media::sip::SipTransport::Udp
        };
        for p in &self.sip_agent_phones {
            let (key, uri) = p
                .split_once('=')
                .with_context(|| format!("--sip-agent-phone {p:?}: expected KEY=sip:URI"))?;
            if !uri.starts_with("sip:") {
                bail!("--sip-agent-phone {p:?}: the phone must be a sip: URI");
            }
            c.agent_phones
                .insert(key.trim().to_owned(), uri.trim().to_owned());
        }
        if self.amd {
            c.amd = Some(pinline::media::amd::AmdSettings::default());
        }
        Ok(c)
    }
}

// Parsed once at start: the size of `serve`'s flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the API and the web app (migrates the database first).
    Serve {
        #[arg(long, env = "PINLINE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        db: DbArgs,
        /// Media provider for calls.
        #[arg(long, env = "PINLINE_MEDIA", default_value = "sim")]
        media: Media,
        #[command(flatten)]
        sip: SipArgs,
        /// The built web app (Trunk's output).
        #[arg(long, env = "PINLINE_WEB_DIST", default_value = "dist")]
        web_dist: PathBuf,
        /// Seed the demo organization when it does not exist yet, and print
        /// its logins.
        #[arg(long, env = "PINLINE_SEED_DEMO")]
        seed_demo: bool,
        /// With --seed-demo: simulated agents on the demo floor (agent2@ and
        /// on; agent1@ stays free for you), the demo campaign running, and
        /// a carrier whose leads answer often. 0: a quiet demo.
        #[arg(long, env = "PINLINE_DEMO_AGENTS", default_value_t = 3)]
        demo_agents: usize,
        /// With --seed-demo, when the demo is created: this many working
        /// days of simulated past calls and wrap-ups (marked demo data in
        /// the audit log), so Reports show something. 0: none.
        #[arg(long, env = "PINLINE_DEMO_DAYS", default_value_t = 3)]
        demo_days: u32,
        /// Token signing secret; generated and kept in the data dir if unset.
        #[arg(long, env = "PINLINE_JWT_SECRET", hide_env_values = true)]
        jwt_secret: Option<String>,
        /// How long a login session lasts, in hours.
        #[arg(long, env = "PINLINE_SESSION_HOURS", default_value_t = 12)]
        session_hours: u64,
        /// Largest CSV upload accepted, in megabytes.
        #[arg(long, env = "PINLINE_MAX_UPLOAD_MB", default_value_t = 100)]
        max_upload_mb: usize,
        /// Largest request body on every other route (GraphQL), in
        /// megabytes; larger ones get 413.
        #[arg(long, env = "PINLINE_MAX_BODY_MB", default_value_t = 4)]
        max_body_mb: usize,
        /// Requests per second each client address (IPv6: each /64) may
        /// send without a token, after a burst of ten times as many;
        /// beyond it they get 429 with Retry-After. Signed-in callers are
        /// not counted. Behind a load balancer every client has its
        /// address: raise it, or limit at the balancer.
        #[arg(long, env = "PINLINE_ANONYMOUS_RATE", default_value_t = 20)]
        anonymous_rate: u32,
        /// A web origin (scheme://host[:port]) whose pages may call the API
        /// from the browser (CORS). Repeatable; none by default.
        #[arg(
            long = "cors-origin",
            env = "PINLINE_CORS_ORIGINS",
            value_delimiter = ','
        )]
        cors_origins: Vec<String>,
        /// Log-in attempts allowed per client IP per minute. A contact
        /// center behind one NAT address signs in from one IP: raise it
        /// to about its head count.
        #[arg(long, env = "PINLINE_LOGIN_IP_LIMIT", default_value_t = 30)]
        login_ip_limit: usize,
        /// Seconds an agent's pinned leg outlives their last live connection.
        #[arg(long, env = "PINLINE_AGENT_GRACE_SECS", default_value_t = 30)]
        agent_grace_secs: u64,
        /// Seed of the sim carrier's call outcomes.
        /// Default 1; the live demo (--seed-demo with demo agents) draws
        /// one at start, so each run's calls turn out differently.
        #[arg(long, env = "PINLINE_SIM_SEED")]
        sim_seed: Option<u64>,
        /// Delay before a failed webhook is first retried, in milliseconds
        /// (doubling on each failure, at most an hour).
        #[arg(long, env = "PINLINE_WEBHOOK_RETRY_MS", default_value_t = 5000)]
        webhook_retry_ms: u64,
        /// On SIGTERM or Ctrl-C: at most this many seconds to end live
        /// calls (their ends written, ENDED published) before the
        /// websockets close (1001) and the process exits.
        #[arg(long, env = "PINLINE_DRAIN_SECS", default_value_t = 10)]
        drain_secs: u64,
        /// What this server is called in logs, metrics and the live floor
        /// (several servers on one PostgreSQL; default: a random id).
        #[arg(long, env = "PINLINE_INSTANCE_NAME")]
        instance_name: Option<String>,
        /// PostgreSQL: how long a server's leases on contact centers
        /// outlive it if it vanishes without its address refusing
        /// connections (a machine gone, a pause); a killed process's
        /// centers are taken within about two seconds.
        #[arg(long, env = "PINLINE_LEASE_SECS", default_value_t = 10)]
        lease_secs: u64,
        /// PostgreSQL: where the other servers reach this one
        /// (`http://host:port`); by default the address it listens on
        /// (127.0.0.1 when listening on every address).
        #[arg(long, env = "PINLINE_ADVERTISE_URL")]
        advertise_url: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create the demo organization and print its logins.
    SeedDemo {
        #[command(flatten)]
        db: DbArgs,
        /// Give every demo user this password (default: a random one).
        #[arg(long)]
        password: Option<String>,
        /// Working days of simulated past calls to add (0: none).
        #[arg(long, default_value_t = 3)]
        demo_days: u32,
    },
    /// Create an organization and its first admin.
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        /// The admin's password (default: a random one, printed).
        #[arg(long)]
        password: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the GraphQL schema (SDL) to stdout.
    ExportSchema,
    /// Simulate pacers on virtual time over a scenario (docs/pacing.md):
    /// Pinline's pacer, VICIdial ADAPT_TAPERED, progressive 1:1 and the
    /// clairvoyant bound, on the same random draws per seed.
    Simulate(SimulateArgs),
    /// Benchmarks (run by hand; see docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Claim latency and throughput against a campaign of many leads.
    Claims {
        #[arg(long, default_value_t = 1_000_000)]
        leads: usize,
        /// Single-lead claims to time.
        #[arg(long, default_value_t = 5_000)]
        samples: usize,
        /// PostgreSQL to bench on (a scratch database!); default: a
        /// temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// The dialer in real time on the sim carrier: answer→connected
    /// latency (engine and websocket) and calls in flight, with N agents.
    Engine {
        #[arg(long, default_value_t = 200)]
        agents: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Shortest and longest talk time, seconds.
        #[arg(long, default_value_t = 10)]
        talk_min: u32,
        #[arg(long, default_value_t = 30)]
        talk_max: u32,
        /// PREVIEW is not benched (it waits for agents).
        #[arg(long, default_value = "PROGRESSIVE", value_parser = ["PROGRESSIVE", "PREDICTIVE"])]
        mode: String,
        #[arg(long)]
        database_url: Option<String>,
        /// Hostile clients sending the worst documents and slow bodies
        /// the whole time (0: none); `/healthz` is timed either way.
        #[arg(long, default_value_t = 0)]
        attack: usize,
        /// The attack's clients send `{ __typename }` instead: the same
        /// request rate without hostility, the baseline to compare with.
        #[arg(long)]
        benign: bool,
        /// Servers sharing the PostgreSQL database (in this process), one
        /// contact center each; agents talk to a server not running their
        /// center (commands forwarded, events over the database).
        #[arg(long, default_value_t = 1)]
        instances: usize,
    },
    /// The hostile clients of `bench engine --attack` (which runs this as
    /// a child process): the worst documents and slow connections against
    /// URL for SECONDS, then "requests refused other" on stdout.
    Attack {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long)]
        benign: bool,
    },
    /// The sip provider bridging N concurrent calls on loopback against
    /// sipp farms (needs sipp): 200 OK → agent latency and packet loss.
    Sip {
        #[arg(long, default_value_t = 50)]
        calls: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Campaign analytics and agent performance over N calls in 30 days.
    Reports {
        #[arg(long, default_value_t = 1_000_000)]
        calls: usize,
        #[arg(long, default_value_t = 50)]
        agents: usize,
        /// Timed runs of each report after the first.
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// The event bus between instances (PostgreSQL): events a second from
    /// one instance to another, and their lag, at each rate.
    Bus {
        /// A scratch PostgreSQL database.
        #[arg(long)]
        database_url: String,
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "500,1000,2000,5000,10000,20000"
        )]
        rates: Vec<u64>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Each event's size as JSON (a call's step is ~1 KB; over
        /// 7,900 it goes through the table).
        #[arg(long, default_value_t = 1000)]
        bytes: usize,
    },
    /// A CSV import of many rows through the upload job code.
    Import {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// A scratch database for a bench: the given URL, or a fresh SQLite file.
async fn bench_db(url: Option<String>) -> Result<(Db, String)> {
    let target = match url {
        Some(u) => DbTarget::resolve(Some(&u), Path::new(".")),
        None => DbTarget::Sqlite(
            std::env::temp_dir().join(format!("pinline-bench-{}.sqlite3", std::process::id())),
        ),
    };
    pinline::store::run_migrations(&target).await?;
    let db = Db::connect(&target, 16).await?;
    Ok((db, target.describe()))
}

#[derive(Args)]
struct SimulateArgs {
    /// Scenario files (TOML), or S1 … S7 (the standard set, built in),
    /// or `standard` for all seven.
    scenarios: Vec<String>,
    /// Run this one seed only.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run seeds 1 … N (default: the scenario's, 20 for the standard set).
    #[arg(long)]
    seeds: Option<u32>,
    /// Pacers to run, comma-separated: pinline, vicidial, progressive,
    /// clairvoyant (default: all).
    #[arg(long, value_delimiter = ',')]
    pacers: Vec<String>,
    /// Print JSON (one report per scenario, every run included).
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print Markdown table rows (as in docs/pacing.md).
    #[arg(long)]
    markdown: bool,
    /// Also print how Pinline's predicted abandonment chances compared with
    /// what happened, by band.
    #[arg(long)]
    calibration: bool,
    /// Write an SVG chart of occupancy and abandonment over the day to
    /// this directory (one NAME.svg per scenario).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// What-if: build the scenario from this campaign's recorded calls.
    #[arg(long, requires = "agents")]
    from_campaign: Option<String>,
    /// What-if: agents to staff the campaign with.
    #[arg(long)]
    agents: Option<u32>,
    /// Worker threads (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    db: DbArgs,
}

async fn simulate_cmd(a: SimulateArgs) -> Result<()> {
    use pinline::sim::{self, PacerKind, Scenario};
    let mut list: Vec<Scenario> = Vec::new();
    if let Some(id) = &a.from_campaign {
        if !a.scenarios.is_empty() {
            bail!("--from-campaign builds its own scenario: leave out the scenario names");
        }
        let agents = a.agents.unwrap_or(1);
        if agents == 0 {
            bail!("--agents must be at least 1");
        }
        let database = open_migrated(&a.db).await?;
        list.push(sim::whatif::scenario_from_campaign(&database, id, agents).await?);
    }
    for name in &a.scenarios {
        if name.eq_ignore_ascii_case("standard") {
            list.extend(Scenario::standard());
        } else {
            list.push(Scenario::load(name)?);
        }
    }
    if list.is_empty() {
        bail!(
            "name a scenario (a TOML file, S1 … S7, or `standard`), or --from-campaign ID --agents N"
        );
    }
    let mut kinds = Vec::new();
    for p in &a.pacers {
        match PacerKind::parse(p.trim()) {
            Some(k) => kinds.push(k),
            None => bail!("unknown pacer {p:?}: pinline, vicidial, progressive or clairvoyant"),
        }
    }
    if kinds.is_empty() {
        kinds = PacerKind::ALL.to_vec();
    }
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Some(dir) = &a.svg {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let mut reports = Vec::new();
    for sc in &list {
        let seeds: Vec<u64> = match (a.seed, a.seeds) {
            (Some(s), _) => vec![s],
            (None, Some(n)) => (1..=u64::from(n.max(1))).collect(),
            (None, None) => (1..=u64::from(sc.seeds)).collect(),
        };
        let label = sc.name.clone();
        let progress = move |done: usize, total: usize| {
            if tty {
                let width = 30;
                let filled = done * width / total.max(1);
                eprint!(
                    "\r{label:<10} [{}{}] {done}/{total} days",
                    "#".repeat(filled),
                    " ".repeat(width - filled)
                );
                if done == total {
                    eprintln!();
                }
            }
        };
        let report = sim::simulate(sc, &kinds, &seeds, threads, &progress);
        if let Some(dir) = &a.svg {
            let file = dir.join(format!(
                "{}.svg",
                sc.name
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect::<String>()
            ));
            std::fs::write(&file, sim::chart::svg(&report))
                .with_context(|| format!("writing {}", file.display()))?;
            eprintln!("chart: {}", file.display());
        }
        if a.markdown {
            print!("{}", report.markdown_rows());
        } else if !a.json {
            println!("{}", report.table());
        }
        if a.calibration && !a.json {
            println!("{}", report.calibration_table());
        }
        reports.push(report);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    match cli.command {
        Command::Bench { what } => match what {
            BenchWhat::Claims {
                leads,
                samples,
                database_url,
            } => {
                let (db, what) = bench_db(database_url).await?;
                eprintln!("bench claims: {leads} leads on {what} (seeding…)");
                let r = pinline::bench::claims(&db, leads, samples)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("database            {what}");
                println!("leads               {}", r.leads);
                println!("seed                {:.1} s", r.seed.as_secs_f64());
                println!(
                    "single-lead claim   p50 {}  p99 {}  max {}",
                    ms(r.single.p50),
                    ms(r.single.p99),
                    ms(r.single.max)
                );
                println!(
                    "8 claimers × 10     p50 {}  p99 {}  max {}  ({:.0} leads/s)",
                    ms(r.concurrent.p50),
                    ms(r.concurrent.p99),
                    ms(r.concurrent.max),
                    r.concurrent_claims_per_sec
                );
                Ok(())
            }
            BenchWhat::Engine {
                agents,
                seconds,
                talk_min,
                talk_max,
                mode,
                database_url,
                attack,
                benign,
                instances,
            } => {
                let what = if database_url.is_some() {
                    "PostgreSQL"
                } else {
                    "SQLite"
                };
                let bench = pinline::bench::engine::EngineBench {
                    agents,
                    seconds,
                    talk: (talk_min, talk_max.max(talk_min)),
                    mode: pinline::domain::campaign::DialMode::parse(&mode)
                        .ok_or_else(|| anyhow::anyhow!("unknown mode {mode}"))?,
                    database_url,
                    attack,
                    benign,
                    instances,
                };
                eprintln!(
                    "bench engine: {agents} agents, {seconds} s, {mode}, on {what}, {instances} instance(s)"
                );
                let r = pinline::bench::engine::run(&bench, |m| eprintln!("  {m}"))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let show = |p: Option<pinline::bench::Percentiles>| match p {
                    Some(p) => format!("p50 {}  p99 {}  max {}", ms(p.p50), ms(p.p99), ms(p.max)),
                    None => "no samples".into(),
                };
                println!("database                  {what}");
                println!("agents                    {agents} ({mode})");
                println!("calls connected           {}", r.connects);
                println!("answer → published        {}", show(r.published));
                println!("  of which queued         {}", show(r.queued));
                println!(
                    "answer → agent websocket  {}  ({} of {} received)",
                    show(r.delivered),
                    r.delivered_count,
                    r.connects
                );
                println!("after the first wave      {} connects", r.steady_connects);
                println!("  answer → published      {}", show(r.steady_published));
                println!("  answer → websocket      {}", show(r.steady_delivered));
                println!("most calls in flight      {}", r.max_in_flight);
                println!(
                    "calls ended / abandoned   {} / {}",
                    r.calls_ended, r.abandoned
                );
                let a = &r.attack;
                println!(
                    "GET /healthz (every 0.1 s) {}  ({} failed)",
                    show(pinline::bench::percentiles(a.healthz.clone())),
                    a.healthz_failed
                );
                if attack > 0 {
                    println!(
                        "attack                    {attack} clients: {} requests, {} refused, {} other",
                        a.requests, a.refused, a.other
                    );
                }
                Ok(())
            }
            BenchWhat::Attack {
                url,
                clients,
                seconds,
                benign,
            } => {
                let hostile = pinline::bench::attack::Hostile::start(&url, clients, benign);
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                let (requests, refused, other) = hostile.finish().await;
                println!("{requests} {refused} {other}");
                Ok(())
            }
            BenchWhat::Sip { calls, seconds } => {
                eprintln!("bench sip: {calls} concurrent bridged calls, {seconds} s");
                let r = pinline::bench::sip::run(
                    &pinline::bench::sip::SipBench { calls, seconds },
                    |m| eprintln!("  {m}"),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                let show = |p: Option<pinline::bench::Percentiles>| match p {
                    Some(p) => format!("p50 {}  p99 {}  max {}", ms(p.p50), ms(p.p99), ms(p.max)),
                    None => "no samples".into(),
                };
                println!("calls bridged                 {} of {}", r.bridged, r.calls);
                println!(
                    "200 OK → first agent packet   {}",
                    show(r.first_agent_packet)
                );
                println!("200 OK → first lead audio     {}", show(r.first_lead_audio));
                println!(
                    "toward agents                 {} packets, {} lost ({:.3} %), {} over 40 ms late",
                    r.packets,
                    r.lost,
                    100.0 * r.lost as f64 / (r.packets + r.lost).max(1) as f64,
                    r.late
                );
                println!(
                    "lead audio relayed            {} of ~{} packets sent by the lead farm",
                    r.lead_packets, r.lead_packets_expected
                );
                Ok(())
            }
            BenchWhat::Reports {
                calls,
                agents,
                rounds,
                database_url,
            } => {
                let (db, what) = bench_db(database_url).await?;
                eprintln!("bench reports: {calls} calls, {agents} agents on {what} (seeding…)");
                let r = pinline::bench::reports::run(&db, calls, agents, rounds.max(1))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("database   {what}");
                println!(
                    "calls      {} (seeded in {:.1} s)",
                    r.calls,
                    r.seed.as_secs_f64()
                );
                for t in &r.timings {
                    println!(
                        "{:<30} cold {}  warm p50 {}  max {}   ({})",
                        t.what,
                        ms(t.cold),
                        ms(t.warm.p50),
                        ms(t.warm.max),
                        t.check
                    );
                }
                Ok(())
            }
            BenchWhat::Bus {
                database_url,
                rates,
                seconds,
                bytes,
            } => {
                let (db, what) = bench_db(Some(database_url)).await?;
                if !matches!(db, Db::Pg(_)) {
                    anyhow::bail!("bench bus needs a PostgreSQL --database-url");
                }
                eprintln!("bench bus: {bytes}-byte events on {what}");
                let steps = pinline::bench::bus::run(&db, &rates, seconds.max(1), bytes, |m| {
                    eprintln!("  {m}")
                })
                .await;
                println!("rate/s   received        lag p50     p99       max");
                for s in steps {
                    let (p50, p99, max) = match s.lag {
                        Some(p) => (ms(p.p50), ms(p.p99), ms(p.max)),
                        None => ("-".into(), "-".into(), "-".into()),
                    };
                    println!(
                        "{:<8} {:>7}/{:<7} {:>9} {:>9} {:>9}",
                        s.rate, s.received, s.sent, p50, p99, max
                    );
                }
                Ok(())
            }
            BenchWhat::Import { rows, database_url } => {
                let (db, what) = bench_db(database_url).await?;
                eprintln!("bench import: {rows} rows on {what}");
                let r = pinline::bench::import(&db, rows)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("database   {what}");
                println!(
                    "rows       {} ({:.1} MB), added {}",
                    r.rows,
                    r.bytes as f64 / 1e6,
                    r.added
                );
                println!("parse      {:.2} s", r.parse.as_secs_f64());
                println!(
                    "total      {:.2} s ({:.0} rows/s)",
                    r.total.as_secs_f64(),
                    r.rows as f64 / r.total.as_secs_f64()
                );
                Ok(())
            }
        },
        Command::Simulate(args) => simulate_cmd(args).await,
        Command::ExportSchema => {
            print!("{}", pinline::graphql::sdl());
            Ok(())
        }
        Command::Migrate { db } => {
            let target = db.target();
            let applied = pinline::store::run_migrations(&target)
                .await
                .with_context(|| format!("migrating {}", target.describe()))?;
            if applied.is_empty() {
                println!("{}: up to date", target.describe());
            } else {
                println!("{}: applied {}", target.describe(), applied.join(", "));
            }
            Ok(())
        }
        Command::SeedDemo {
            db,
            password,
            demo_days,
        } => {
            let database = open_migrated(&db).await?;
            let seeded = bootstrap::seed_demo(&database, password.as_deref()).await?;
            demo_history(&database, &seeded, demo_days).await?;
            report_demo(&seeded, &db.data_dir)
        }
        Command::CreateOrg {
            name,
            admin_email,
            password,
            db,
        } => {
            let database = open_migrated(&db).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(bootstrap::random_password);
            let (org, admin) =
                bootstrap::create_org(&database, &name, &admin_email, &password).await?;
            println!("organization {:?} ({})", org.name, org.id);
            if generated {
                println!("admin {}  password {}", admin.email, password);
            } else {
                println!("admin {}", admin.email);
            }
            Ok(())
        }
        Command::Serve {
            listen,
            db,
            media,
            sip,
            web_dist,
            seed_demo,
            demo_agents,
            demo_days,
            jwt_secret,
            session_hours,
            max_upload_mb,
            max_body_mb,
            anonymous_rate,
            cors_origins,
            login_ip_limit,
            agent_grace_secs,
            sim_seed,
            webhook_retry_ms,
            drain_secs,
            instance_name,
            lease_secs,
            advertise_url,
        } => {
            if session_hours == 0 {
                bail!("--session-hours must be at least 1");
            }
            let media = match media {
                Media::Sim => pinline::config::MediaKind::Sim,
                Media::Sip => pinline::config::MediaKind::Sip(Box::new(sip.config()?)),
            };
            let config = Config {
                media,
                listen,
                data_dir: db.data_dir.clone(),
                database_url: db.database_url.clone(),
                jwt_secret,
                web_dist,
                session_ttl: Duration::from_secs(session_hours * 3600),
                max_upload_bytes: max_upload_mb.saturating_mul(1024 * 1024),
                max_body_bytes: max_body_mb.max(1).saturating_mul(1024 * 1024),
                anonymous: pinline::http::budget::AnonymousLimits {
                    per_second: f64::from(anonymous_rate.max(1)),
                    burst: f64::from(anonymous_rate.max(1)) * 10.0,
                    ..Default::default()
                },
                cors_origins: pinline::http::cors::parse_origins(&cors_origins)?,
                login_ip_limit: pinline::auth::ratelimit::Limit {
                    max: login_ip_limit.max(1),
                    window: Duration::from_secs(60),
                },
                session_grace: Duration::from_secs(agent_grace_secs),
                sim_seed: sim_seed.unwrap_or_else(|| {
                    if seed_demo && demo_agents > 0 {
                        rand::random()
                    } else {
                        1
                    }
                }),
                sim_model: if seed_demo && demo_agents > 0 {
                    pinline::media::sim_model::SimConfig::demo()
                } else {
                    Default::default()
                },
                webhooks: pinline::webhooks::WebhookConfig {
                    retry_base: Duration::from_millis(webhook_retry_ms.max(1)),
                    ..Default::default()
                },
                leases: pinline::cluster::LeaseConfig {
                    ttl: Duration::from_secs(lease_secs.max(2)),
                    ..Default::default()
                },
                instance_name: instance_name.filter(|n| !n.trim().is_empty()),
                ..Config::default()
            };
            let app = App::start(config).await.context("starting Pinline")?;
            if seed_demo {
                let seeded = bootstrap::seed_demo(&app.db, None).await?;
                demo_history(&app.db, &seeded, demo_days).await?;
                report_demo(&seeded, &db.data_dir)?;
                if demo_agents > 0 {
                    let n = pinline::demo::start(&app, demo_agents)
                        .await
                        .context("starting the demo floor")?;
                    eprintln!(
                        "  The demo floor is live: {n} simulated agents, the demo campaign running;\n  \
                         sign in as agent1@demo.pinline.test and go Available for your first call.\n"
                    );
                }
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            let bound = listener.local_addr()?;
            app.advertise(&advertise_url.unwrap_or_else(|| {
                let mut at = bound;
                if at.ip().is_unspecified() {
                    at.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{at}")
            }));
            tracing::info!(
                "Pinline is serving on http://{bound} (GraphQL: http://{bound}/graphql)"
            );
            eprintln!("\n  Pinline is up: http://{bound}   (GraphiQL: http://{bound}/graphql)\n");
            let media = app.media.clone();
            let engine = app.engine.clone();
            let leases = app.clone();
            let drain = Duration::from_secs(drain_secs.max(1));
            // On the signal, the calls end first (agents see ENDED on their
            // open websockets), then the HTTP side stops.
            let stop = async move {
                shutdown_signal().await;
                tracing::info!("stopping: ending live calls (at most {drain:?})");
                match tokio::time::timeout(drain, engine.drain()).await {
                    Ok(Ok(d)) => tracing::info!(
                        calls_ended = d.calls_ended,
                        agents_offline = d.agents_offline,
                        unwritten = d.unwritten,
                        "live calls ended"
                    ),
                    Ok(Err(e)) => tracing::error!("ending live calls: {e}"),
                    Err(_) => tracing::error!(
                        "ending live calls took longer than {drain:?}: the next start ends the rest"
                    ),
                }
                leases.release_leases().await;
            };
            pinline::http::serve(app, listener, stop)
                .await
                .context("serving")?;
            // Calls end with the server: BYE (or CANCEL) on every leg, and
            // a moment for the answers.
            media.shut_down();
            tokio::time::sleep(Duration::from_millis(300)).await;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

async fn open_migrated(db: &DbArgs) -> Result<Db> {
    let target = db.target();
    pinline::store::run_migrations(&target)
        .await
        .with_context(|| format!("migrating {}", target.describe()))?;
    Ok(Db::connect(&target, 2).await?)
}

const DEMO_LOGINS_FILE: &str = "demo-logins.txt";

/// A newly created demo's simulated past (`--demo-days`).
async fn demo_history(db: &Db, seeded: &bootstrap::DemoSeed, days: u32) -> Result<()> {
    if days == 0 || !matches!(seeded, bootstrap::DemoSeed::Created(_)) {
        return Ok(());
    }
    eprintln!("  Simulating {days} working days of demo history…");
    let calls = pinline::demo::seed_history(db, days, rand::random())
        .await
        .context("simulating the demo's history")?;
    eprintln!("  {calls} past calls added (demo data).");
    Ok(())
}

fn report_demo(seeded: &DemoSeed, data_dir: &Path) -> Result<()> {
    let file = data_dir.join(DEMO_LOGINS_FILE);
    match seeded {
        DemoSeed::Created(logins) => {
            let mut text = String::from("Pinline demo logins (organization \"Pinline Demo\")\n");
            for l in logins {
                text.push_str(&format!(
                    "  {:<11} {:<32} password: {}\n",
                    l.role.as_str().to_lowercase(),
                    l.email,
                    l.password
                ));
            }
            print!("\n{text}\n");
            std::fs::create_dir_all(data_dir)?;
            write_private(&file, &text).with_context(|| format!("writing {}", file.display()))?;
            println!("(also saved in {})", file.display());
        }
        DemoSeed::AlreadySeeded => {
            if file.is_file() {
                print!("\n{}", std::fs::read_to_string(&file)?);
                println!("(from {})\n", file.display());
            } else {
                println!(
                    "The demo organization already exists; its logins were printed when it was seeded."
                );
            }
        }
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
