//! Live heap bytes, counted by a global allocator that wraps the system one.
//!
//! Behind the `alloc-count` feature: the wrapper puts two atomic operations
//! on every allocation of the whole process, which a controller should not
//! pay for outside a measurement build. Without the feature `live_bytes` is
//! `None` and the memory bench reports resident figures only.

#[cfg(feature = "alloc-count")]
mod imp {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// Requested bytes currently allocated (malloc's own chunk headers and
    /// rounding are not included; resident figures show those).
    pub static LIVE: AtomicUsize = AtomicUsize::new(0);
    /// Allocations currently live (each costs malloc a header and rounding).
    pub static COUNT: AtomicUsize = AtomicUsize::new(0);

    pub struct Counting;

    // SAFETY: every call is forwarded unchanged to `System`; the counter is
    // only updated after a successful allocation.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                LIVE.fetch_add(layout.size(), Relaxed);
                COUNT.fetch_add(1, Relaxed);
            }
            p
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: as for `alloc`.
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                LIVE.fetch_add(layout.size(), Relaxed);
                COUNT.fetch_add(1, Relaxed);
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from this allocator with `layout`.
            unsafe { System.dealloc(ptr, layout) };
            LIVE.fetch_sub(layout.size(), Relaxed);
            COUNT.fetch_sub(1, Relaxed);
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                LIVE.fetch_add(new_size, Relaxed);
                LIVE.fetch_sub(layout.size(), Relaxed);
            }
            p
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;
}

/// Heap bytes the process holds right now, when built with `alloc-count`.
pub fn live_bytes() -> Option<u64> {
    #[cfg(feature = "alloc-count")]
    {
        Some(imp::LIVE.load(std::sync::atomic::Ordering::Relaxed) as u64)
    }
    #[cfg(not(feature = "alloc-count"))]
    {
        None
    }
}

/// Heap allocations the process holds right now, when built with
/// `alloc-count`.
pub fn live_allocations() -> Option<u64> {
    #[cfg(feature = "alloc-count")]
    {
        Some(imp::COUNT.load(std::sync::atomic::Ordering::Relaxed) as u64)
    }
    #[cfg(not(feature = "alloc-count"))]
    {
        None
    }
}

/// What a value holds on the heap.
#[derive(Debug, Clone, Copy, Default)]
pub struct Held {
    pub bytes: u64,
    pub allocations: u64,
}

/// The live counts now, when built with `alloc-count`.
pub fn held_now() -> Option<Held> {
    Some(Held {
        bytes: live_bytes()?,
        allocations: live_allocations()?,
    })
}

/// Growth of the live counts from `before` to now.
pub fn held_since(before: Option<Held>) -> Option<Held> {
    let (before, now) = (before?, held_now()?);
    Some(Held {
        bytes: now.bytes.saturating_sub(before.bytes),
        allocations: now.allocations.saturating_sub(before.allocations),
    })
}

/// What `make`'s result holds on the heap, measured as the growth of the
/// live counts while it exists. Used on clones of controller structures, so
/// spare capacity a `Vec` or `String` had is not counted (hash maps keep
/// theirs).
pub fn heap_of<T>(make: impl FnOnce() -> T) -> Option<Held> {
    let before = held_now()?;
    let value = make();
    let held = held_since(Some(before));
    drop(value);
    held
}
