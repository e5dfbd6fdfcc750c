// The default demo's fingerprint, shared by the native and the wasm tests: the app (wasm32)
// and the native generator (tests, `vigil-demo`, DEMO.md's truths) must write the same bytes.

/// FNV-1a (64-bit) of `demo_csv(DemoParams::default())`, and its length in bytes.
pub const DEFAULT_DEMO_FNV1A: u64 = 0x47f8_b4cd_c280_7aa9;
pub const DEFAULT_DEMO_BYTES: usize = 20_291_847;

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
