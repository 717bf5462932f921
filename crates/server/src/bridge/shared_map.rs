//! A map of shared values made on first use: the bridge keeps one connection
//! pool per backend socket and one relay site per extension this way.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// Keys to values shared behind an [`Arc`], each made the first time its key
/// is asked for. A poisoned lock is taken over: the map holds no invariant a
/// panic could break.
#[derive(Debug)]
pub struct SharedMap<K, V> {
    map: Mutex<HashMap<K, Arc<V>>>,
}

impl<K, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V> SharedMap<K, V> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, Arc<V>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key`, made by `make` (and kept) when there is none.
    pub fn get_or_make<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> Arc<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        let mut map = self.lock();
        if let Some(value) = map.get(key) {
            return Arc::clone(value);
        }
        let value = Arc::new(make());
        map.insert(key.to_owned(), Arc::clone(&value));
        value
    }

    /// Keeps only the entries whose key passes `keep`.
    pub fn retain(&self, mut keep: impl FnMut(&K) -> bool) {
        self.lock().retain(|key, _| keep(key));
    }

    /// Drops the entry of `key`, if any.
    pub fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().remove(key);
    }

    /// Calls `f` with every value.
    pub fn for_each(&self, mut f: impl FnMut(&V)) {
        for value in self.lock().values() {
            f(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_made_once_per_key_until_dropped() {
        let map: SharedMap<String, usize> = SharedMap::default();
        let mut made = 0;
        let mut make = |n| {
            made += 1;
            n
        };
        let a = map.get_or_make("a", || make(1));
        let again = map.get_or_make("a", || make(2));
        assert!(Arc::ptr_eq(&a, &again));
        map.get_or_make("b", || make(3));
        map.retain(|k| k != "b");
        map.remove("a");
        assert_eq!(*map.get_or_make("a", || make(4)), 4);
        let mut seen = Vec::new();
        map.for_each(|v| seen.push(*v));
        assert_eq!((made, seen), (3, vec![4]));
    }
}
