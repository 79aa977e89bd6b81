//! Health checks around a test: sample-ratio mismatch, multiple metrics, and
//! comparisons across rollout stages.

pub mod multiple;
pub mod srm;
pub mod stratified;
