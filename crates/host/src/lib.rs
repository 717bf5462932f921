//! dockhand-host: the extension manager.
//!
//! This crate owns getting an extension image from wherever it is — a
//! registry, the Docker engine, an OCI layout or an archive — into the
//! content store ([`acquire`]), the state of what is installed and the journal
//! that makes install / update / uninstall recoverable ([`state`]), those
//! transactions themselves ([`install`], [`uninstall`]), the permission
//! summary asked about at install ([`consent`]), update checks and updates
//! ([`update`]), backends on the engine ([`backend`]), the on-disk layout
//! ([`layout`]) and `doctor`; the configuration files ([`config`]), the
//! allow-list every install goes through ([`allow`]) and the catalogs
//! ([`catalog`]).

pub mod acquire;
pub mod allow;
pub mod backend;
pub mod catalog;
pub mod compose_model;
pub mod config;
pub mod consent;
pub mod dev;
pub mod doctor;
pub mod engine_mode;
pub mod error;
pub mod fs_message;
pub mod install;
pub mod layout;
mod line;
mod manager;
pub mod namespace;
pub mod private_dir;
pub mod relay;
pub mod socket_dir;
pub mod staging;
pub mod state;
pub mod uninstall;
pub mod update;

pub use error::InstallError;
pub use manager::{Hooks, Listed, Listing, Manager, Quiet};
