//! Call recording (issue 33, under way): the stored format and the
//! two-channel mixer. Not yet wired to calls: the policy per campaign,
//! the store (disk, S3), consent prompts, access and retention come next.

pub mod mixer;
pub mod wav;
