//! After a start-up that recovered from a damaged journal, intents may be
//! missing whose configuration is still on the devices. Reconciliation would
//! read that configuration as Strata-owned but unwanted and remove it,
//! turning journal damage into a network outage. While the store's deletion
//! hold is set, those removals are held back (and counted); adding and
//! repairing what the intents want goes on.

use std::collections::BTreeSet;

use super::Controller;
use crate::render::DeviceEdit;

impl Controller {
    /// Whether reconciliation must not delete anything now.
    pub fn reconcile_deletions_held(&self) -> bool {
        self.store.as_ref().is_some_and(|s| s.deletions_held())
    }

    /// Strips from `change` everything that removes configuration: the
    /// deletions (untuning a transponder is deletions too), and any write
    /// that is not for a wanted path. Returns how many deletions were held.
    pub(super) fn hold_deletions_after_journal_recovery(
        &self,
        device: &str,
        desired: &DeviceEdit,
        change: &mut DeviceEdit,
    ) -> usize {
        let Some(store) = self.store.as_ref().filter(|s| s.deletions_held()) else {
            return 0;
        };
        let wanted: BTreeSet<&crate::render::Path> = desired.items().map(|i| &i.path).collect();
        let writes = change.replace.len() + change.update.len();
        change.replace.retain(|i| wanted.contains(&i.path));
        change.update.retain(|i| wanted.contains(&i.path));
        let held = std::mem::take(&mut change.delete);
        let kept = change.replace.len() + change.update.len();
        if !held.is_empty() || kept != writes {
            store.note_held_deletions(held.len());
            tracing::warn!(
                device,
                held = ?held.iter().map(ToString::to_string).collect::<Vec<_>>(),
                held_writes = writes - kept,
                hold = %store.deletion_hold().display(),
                "journal was recovered from damage: not removing Strata-owned configuration missing from the intents until the hold file is removed"
            );
        }
        held.len()
    }
}
