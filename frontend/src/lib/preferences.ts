import { applyDensity, applyMode, Density, Mode } from "@cloudscape-design/global-styles";

export interface Preferences {
  dark: boolean;
  compact: boolean;
}

const KEY = "jit.preferences";

export function loadPreferences(storage: Storage = localStorage): Preferences {
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? "{}");
    return { dark: raw.dark === true, compact: raw.compact === true };
  } catch {
    return { dark: false, compact: false };
  }
}

export function savePreferences(prefs: Preferences, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify(prefs));
}

export function applyPreferences(prefs: Preferences): void {
  applyMode(prefs.dark ? Mode.Dark : Mode.Light);
  applyDensity(prefs.compact ? Density.Compact : Density.Comfortable);
}
