import { useSyncExternalStore } from "react";
import { applyPreferences, loadPreferences, savePreferences, type Preferences } from "../lib/preferences";

// One store, so the top bar and the Settings page never disagree about the mode.
let current: Preferences | null = null;
const listeners = new Set<() => void>();

function snapshot(): Preferences {
  if (!current) current = loadPreferences();
  return current;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function setPreferences(next: Preferences): void {
  savePreferences(next);
  applyPreferences(next);
  current = next;
  listeners.forEach((l) => l());
}

export function usePreferences(): [Preferences, (p: Preferences) => void] {
  return [useSyncExternalStore(subscribe, snapshot), setPreferences];
}
