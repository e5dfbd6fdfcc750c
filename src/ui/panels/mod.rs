//! The tabs. Each panel is a folder: its view, its own state (settings and analyses, created
//! once when the app starts), its part of the view's link, and what a new table resets.
//! [`TABS`] lists them in display order: the one place a panel is added. Panels never import
//! each other; one asks another through an [`Intent`](super::state::Intent).

use leptos::prelude::*;
use serde_json::{Map, Value};

use super::state::AppState;
use crate::data::table::ColumnType;

mod clusters;
mod data;
mod measure;
mod models;
mod networks;
mod profile;
mod rootcause;
mod trends;

/// The view's settings by key, as a link carries them.
pub type Settings = Map<String, Value>;
/// The loaded table's columns, as a link's settings are fitted to them.
pub type Columns = [(String, ColumnType)];

/// A panel's settings in the view's link.
pub struct Link {
    /// Writes the panel's settings into the link's settings, by key (only what differs from
    /// the defaults). Reads the panel's signals, so the link follows them.
    pub write: fn(AppState, &mut Settings),
    /// Takes the panel's keys out of an opened link's settings, fits them to the table's
    /// columns (saying what did not fit) and puts them on screen, re-running what they show.
    pub read: fn(AppState, &mut Settings, &Columns, &mut Vec<String>),
}

/// One tab.
pub struct TabEntry {
    /// Its name in links and test ids ("root-cause").
    pub slug: &'static str,
    pub label: &'static str,
    /// Creates the panel's state (once, when the app starts).
    pub init: fn(AppState),
    pub view: fn() -> AnyView,
    /// A new table was loaded: back to the panel's defaults.
    pub reset: fn(),
    pub link: Option<Link>,
}

/// The tabs, in display order.
pub const TABS: [&TabEntry; 8] = [&data::TAB, &profile::TAB, &trends::TAB, &rootcause::TAB, &clusters::TAB, &networks::TAB, &models::TAB, &measure::TAB];

/// The tab with `slug`.
pub fn tab(slug: &str) -> Option<&'static TabEntry> {
    TABS.into_iter().find(|t| t.slug == slug)
}

/// Creates every panel's state (call once, before any view).
pub fn init(state: AppState) {
    for tab in TABS {
        (tab.init)(state);
    }
}

/// A new table: every panel back to its defaults.
pub fn reset() {
    for tab in TABS {
        (tab.reset)();
    }
}

/// Declares a panel's state type as living once per app: `Type::get()` returns it (creating
/// it on first use).
macro_rules! panel_state {
    ($ty:ty) => {
        thread_local! {
            static PANEL_STATE: std::cell::Cell<Option<$ty>> = const { std::cell::Cell::new(None) };
        }

        impl $ty {
            /// The panel's state (created once, on first use).
            pub fn get() -> Self {
                PANEL_STATE.get().unwrap_or_else(|| {
                    let created = Self::new();
                    PANEL_STATE.set(Some(created));
                    created
                })
            }
        }
    };
}
pub(crate) use panel_state;

/// Writes `value` under `key` unless it is the default.
pub fn put<T: serde::Serialize + PartialEq + Default>(settings: &mut Settings, key: &str, value: &T) {
    if *value != T::default() {
        if let Ok(json) = serde_json::to_value(value) {
            settings.insert(key.to_string(), json);
        }
    }
}
