//! Call recording (issue 33, under way): the stored format, the
//! two-channel mixer, the recorder writing a call to its spool file, and
//! the store finished recordings are kept in (disk). Not yet wired to
//! calls: the policy per campaign, the relay's tap, consent prompts, the
//! S3 store, access and retention come next.

pub mod blobs;
pub mod mixer;
pub mod recorder;
pub mod wav;
