//! Import jobs any server can carry on. An upload is spooled to this
//! server's disk and read from there; a copy goes to the database (in
//! parts) before the first batch, and every batch is written with its mark
//! on the job (the batches done, the counts, its report rows). When the
//! server running a job dies, a live one (on SQLite: the next start) takes
//! the job, fetches the upload back from the database, skips the batches
//! already written and finishes it: no row written twice, none lost, the
//! counts and the report whole.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::{CsvMapping, LeadsCsv, run_csv_job};
use crate::events::{Event, EventBus, EventKind};
use crate::store::{self, Db, StoreError, imports::ImportJob};

/// Bytes per stored part of an upload.
const PART: usize = 1024 * 1024;

/// An upload on this server's disk (`<data dir>/uploads/`); the file is
/// removed when this is dropped (the import is over, or refused).
pub struct Spooled {
    pub path: std::path::PathBuf,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Spooled {
    /// A new, not yet written spool file's place under `data_dir`.
    pub fn new_in(data_dir: &std::path::Path) -> std::io::Result<Spooled> {
        let dir = data_dir.join("uploads");
        std::fs::create_dir_all(&dir)?;
        Ok(Spooled {
            path: dir.join(format!("{}.csv", store::new_id())),
        })
    }

    pub fn open(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::open(&self.path)
    }
}

/// What running import jobs needs of the server.
#[derive(Clone)]
pub struct Jobs {
    pub db: Db,
    pub events: Arc<dyn EventBus>,
    /// This server (the jobs it runs carry its id).
    pub instance: String,
    /// Fictional numbers may be imported (the simulated carrier).
    pub fictional_ok: bool,
    pub data_dir: std::path::PathBuf,
}

/// A job's own settings, kept on it for whoever carries it on.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    phone: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    time_zone: Option<String>,
    region: Option<String>,
}

impl Settings {
    fn of(m: &CsvMapping) -> Settings {
        Settings {
            phone: m.phone.clone(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            time_zone: m.time_zone.clone(),
            region: m.region.clone(),
        }
    }

    fn mapping(self) -> CsvMapping {
        CsvMapping {
            phone: self.phone,
            first_name: self.first_name,
            last_name: self.last_name,
            time_zone: self.time_zone,
            region: self.region,
        }
    }
}

type Csv = LeadsCsv<std::io::BufReader<std::fs::File>>;

impl Jobs {
    /// Run `job` (inserted RUNNING by this server) over the spooled file:
    /// the upload stored first (so another server can carry it on), then
    /// every batch.
    pub fn launch(
        &self,
        job: ImportJob,
        campaign: store::models::Campaign,
        region: String,
        mapping: &CsvMapping,
        csv: Csv,
        spooled: Spooled,
    ) {
        let jobs = self.clone();
        let settings = serde_json::to_string(&Settings::of(mapping)).unwrap_or_default();
        tokio::spawn(async move {
            // Without the stored copy the job still runs here; it just
            // cannot be carried on elsewhere.
            if let Err(e) = jobs.store_upload(&job.id, &spooled, &settings).await {
                tracing::warn!(job = %job.id, "keeping the upload in the database: {e}");
            }
            jobs.run(job, campaign, region, csv).await;
            drop(spooled);
        });
    }

    async fn store_upload(
        &self,
        job_id: &str,
        spooled: &Spooled,
        settings: &str,
    ) -> Result<(), StoreError> {
        use tokio::io::AsyncReadExt;
        let io = |e: std::io::Error| StoreError::System(format!("reading the upload: {e}"));
        let mut file = tokio::fs::File::open(&spooled.path).await.map_err(io)?;
        let mut buf = vec![0u8; PART];
        let mut seq = 0i32;
        loop {
            let mut filled = 0;
            while filled < PART {
                let n = file.read(&mut buf[filled..]).await.map_err(io)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            store::imports::put_upload(&self.db, job_id, seq, &buf[..filled]).await?;
            seq += 1;
            if filled < PART {
                break;
            }
        }
        store::imports::set_settings(&self.db, job_id, settings).await
    }

    async fn run(
        &self,
        job: ImportJob,
        campaign: store::models::Campaign,
        region: String,
        csv: Csv,
    ) {
        let id = job.id.clone();
        let events = self.events.clone();
        let publish = move |j: &ImportJob| {
            events.publish(Event {
                organization_id: j.organization_id.clone(),
                at: Utc::now(),
                kind: EventKind::ImportProgress {
                    job_id: j.id.clone(),
                },
            })
        };
        match run_csv_job(
            &self.db,
            &self.instance,
            &campaign,
            &region,
            self.fictional_ok,
            job,
            csv,
            publish,
        )
        .await
        {
            Ok(_) => {}
            Err(StoreError::LeaseLost(why)) => tracing::warn!(job = %id, "import stopped: {why}"),
            Err(e) => tracing::error!(job = %id, error = %e, "lead import failed"),
        }
    }

    /// Take the jobs of servers that are gone (`alive_since` none: every
    /// RUNNING one — one server, starting) and carry each on.
    pub async fn carry_on_orphans(
        &self,
        alive_since: Option<chrono::NaiveDateTime>,
    ) -> Result<usize, StoreError> {
        let taken = store::imports::take_orphans(&self.db, &self.instance, alive_since).await?;
        let n = taken.len();
        for job in taken {
            let jobs = self.clone();
            tokio::spawn(async move {
                let id = job.id.clone();
                if let Err(e) = jobs.carry_on(job).await {
                    tracing::error!(job = %id, "carrying on an import: {e}");
                }
            });
        }
        Ok(n)
    }

    /// Carry on `job`, taken from a server that is gone: its upload
    /// fetched back, the batches it wrote skipped.
    async fn carry_on(&self, mut job: ImportJob) -> Result<(), StoreError> {
        tracing::info!(job = %job.id, batches_done = job.batches_done, "carrying on an import");
        let io = |e: std::io::Error| StoreError::System(format!("spooling the upload: {e}"));
        let spooled = Spooled::new_in(&self.data_dir).map_err(io)?;
        {
            use tokio::io::AsyncWriteExt;
            let mut file = tokio::fs::File::create(&spooled.path).await.map_err(io)?;
            let mut seq = 0;
            while let Some(part) = store::imports::upload_part(&self.db, &job.id, seq).await? {
                file.write_all(&part).await.map_err(io)?;
                seq += 1;
            }
            file.flush().await.map_err(io)?;
        }
        let campaign = store::campaigns::get(&self.db, &job.campaign_id).await?;
        let cc = match &campaign {
            Some(c) => store::contact_centers::get(&self.db, &c.contact_center_id).await?,
            None => None,
        };
        let settings: Option<Settings> = job
            .settings
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let (Some(campaign), Some(cc), Some(settings)) = (campaign, cc, settings) else {
            job.state = "FAILED".into();
            job.error = Some("the campaign (or the job's settings) is gone".into());
            job.finished_at = Some(store::now());
            store::imports::end(&self.db, job, &self.instance).await?;
            return Ok(());
        };
        let file = spooled.open().map_err(io)?;
        let mapping = settings.mapping();
        let csv = tokio::task::spawn_blocking(move || {
            LeadsCsv::open(std::io::BufReader::new(file), &mapping)
        })
        .await
        .map_err(|e| StoreError::System(e.to_string()))?
        .map_err(|e| StoreError::Corrupt(format!("the stored upload: {e}")))?;
        self.run(job, campaign, cc.default_region, csv).await;
        drop(spooled);
        Ok(())
    }

    /// Carry on the jobs of servers that die, as long as this runs: at
    /// once (every RUNNING job when the server is alone: SQLite), then —
    /// several servers sharing PostgreSQL — every `every`, those of
    /// servers silent for `silent`.
    pub fn spawn_carrier(
        self,
        shared: Option<(Duration, Duration)>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let Some((every, silent)) = shared else {
                match self.carry_on_orphans(None).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(n, "imports the last stop interrupted are carried on"),
                    Err(e) => tracing::error!("carrying on interrupted imports: {e}"),
                }
                return;
            };
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let since = store::now()
                    - chrono::Duration::from_std(silent).unwrap_or(chrono::Duration::seconds(10));
                match self.carry_on_orphans(Some(since)).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(n, "imports of a server that died are carried on here"),
                    Err(e) => tracing::warn!("looking for imports of servers that died: {e}"),
                }
            }
        })
    }
}
