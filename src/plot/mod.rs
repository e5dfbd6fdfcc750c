//! Charts, drawn through plotters' `DrawingBackend`: the HTML canvas in the app
//! ([`canvas`], wasm only), SVG natively (tests) and recorded beside every canvas drawing (exports, [`export`]). Everything but `canvas.rs` is
//! pure: geometry and hit-testing are plain functions with unit tests.

pub mod bars;
#[cfg(target_arch = "wasm32")]
pub mod canvas;
pub mod export;
pub mod network;
pub mod scatter;
pub mod timeseries;

/// Colours of a chart, chosen by the UI to match the light or dark theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotTheme {
    pub foreground: (u8, u8, u8),
    pub muted: (u8, u8, u8),
    pub grid: (u8, u8, u8),
    pub accent: (u8, u8, u8),
    pub highlight: (u8, u8, u8),
}

impl PlotTheme {
    pub const LIGHT: PlotTheme = PlotTheme {
        foreground: (28, 34, 48),
        muted: (94, 103, 120),
        grid: (221, 225, 232),
        accent: (53, 88, 212),
        highlight: (230, 120, 30),
    };
    pub const DARK: PlotTheme = PlotTheme {
        foreground: (227, 231, 239),
        muted: (152, 162, 181),
        grid: (44, 51, 64),
        accent: (125, 155, 255),
        highlight: (255, 170, 90),
    };
}
