//! Work spread over the cores natively; one thread (the worker's) on wasm32.
//!
//! Natively an analysis may split independent work (columns, pairs of columns) with [`map`];
//! in the browser the same call runs in turn on the analysis worker, with the same results in
//! the same order. Scoped standard threads, as the loader uses: no thread pool to configure.

/// `f` of each item, in the items' order: on up to [`threads`] scoped threads natively (each
/// takes the next item not yet taken, so one slow item does not hold back the others'), in turn
/// on wasm32 or when there is one item.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = threads().min(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let (f, next) = (&f, &AtomicUsize::new(0));
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let at = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(at) else { break };
                        out.push((at, f(item)));
                    }
                    out
                })
            })
            .collect();
        // A panic in `f` is a bug, not bad input: it goes on to the caller as it would serially.
        running.into_iter().flat_map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    done.sort_unstable_by_key(|d| d.0);
    done.into_iter().map(|d| d.1).collect()
}

/// `a()` and `b()`: side by side natively when there is more than one core, in turn otherwise.
pub fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if threads() <= 1 {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let first = scope.spawn(a);
        let second = b();
        (first.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), second)
    })
}

/// `items` grouped by the top byte of their `hash` (groups in ascending order, items in their
/// order within each), and the 256 groups' places in it: work split by hash into groups small
/// enough that each one's table or sort stays in cache, where one of all the items would not.
pub fn by_top_byte<T: Copy + Default>(items: &[T], hash: impl Fn(&T) -> u64) -> (Vec<T>, Vec<std::ops::Range<usize>>) {
    let group = |item: &T| (hash(item) >> 56) as usize;
    let mut sizes = vec![0usize; 256];
    for item in items {
        if let Some(size) = sizes.get_mut(group(item)) {
            *size += 1;
        }
    }
    let groups: Vec<std::ops::Range<usize>> = sizes.iter().scan(0, |start, &size| Some(std::mem::replace(start, *start + size)..*start)).collect();
    let mut next_slot: Vec<usize> = groups.iter().map(|group| group.start).collect();
    let mut grouped = vec![T::default(); items.len()];
    for item in items {
        if let Some(slot) = next_slot.get_mut(group(item)) {
            if let Some(place) = grouped.get_mut(*slot) {
                *place = *item;
            }
            *slot += 1;
        }
    }
    (grouped, groups)
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
        // Items of very different cost still come back in order.
        let slow: Vec<u64> = (0..40).map(|i| if i % 7 == 0 { 200_000 } else { 10 }).collect();
        assert_eq!(map(&slow, |&n| (0..n).sum::<u64>()), slow.iter().map(|&n| n * n.saturating_sub(1) / 2).collect::<Vec<_>>());
        assert_eq!(join(|| 1, || "b"), (1, "b"));
    }
}
