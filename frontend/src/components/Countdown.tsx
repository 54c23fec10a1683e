import { useEffect, useState } from "react";
import { remainingText } from "../lib/time";

/** Re-renders every second; the text comes from remainingText so it is tested without timers. */
export function useNow(intervalMs = 1000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const id = window.setInterval(() => setNow(new Date()), intervalMs);
    return () => window.clearInterval(id);
  }, [intervalMs]);
  return now;
}

export function Countdown({ startAt, endAt }: { startAt: string; endAt: string }) {
  const now = useNow();
  return <span aria-live="off">{remainingText(startAt, endAt, now)}</span>;
}
