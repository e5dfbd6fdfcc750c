//! Work spread over the cores natively; one thread (the worker's) on wasm32.
//!
//! Natively an analysis may split independent work (columns, pairs of columns) with [`map`];
//! in the browser the same call runs in turn on the analysis worker, with the same results in
//! the same order. Scoped standard threads, as the loader uses: no thread pool to configure.

/// `f` of each item, in the items' order: on up to [`threads`] scoped threads natively (each
/// a contiguous run of items), in turn on wasm32 or when there is one item.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads().min(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let per_thread = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let running: Vec<_> = items.chunks(per_thread).map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>())).collect();
        // A panic in `f` is a bug, not bad input: it goes on to the caller as it would serially.
        running.into_iter().flat_map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// Threads [`map`] uses: the machine's cores natively, one on wasm32.
pub fn threads() -> usize {
    if cfg!(target_arch = "wasm32") {
        1
    } else {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<u64> = (0..1_001).collect();
        assert_eq!(map(&items, |&x| x * x), items.iter().map(|&x| x * x).collect::<Vec<_>>());
        assert!(map(&[] as &[u64], |&x| x).is_empty());
        assert_eq!(map(&[7u64], |&x| x + 1), vec![8]);
    }
}
