import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Countdown } from "./Countdown";
import { TicketStatus } from "./TicketStatus";
import { newer } from "./LiveTicket";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("Countdown", () => {
  it("ticks every second and ends", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-24T10:59:58Z"));
    render(<Countdown startAt="2026-11-24T10:00:00Z" endAt="2026-11-24T11:00:00Z" />);
    expect(screen.getByText("2s left")).toBeTruthy();
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByText("1s left")).toBeTruthy();
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByText("ended")).toBeTruthy();
  });
});

describe("TicketStatus", () => {
  it("shows the status in words with its end reason", () => {
    const { container } = render(<TicketStatus status="ENDED" endReason="REVOKED" />);
    expect(screen.getByText("Ended (revoked)")).toBeTruthy();
    expect(container.querySelector("[data-status=ENDED]")).not.toBeNull();
  });
});

describe("live ticket versions", () => {
  it("keeps the newest version and ignores stale ones", () => {
    let known = {};
    known = newer(known, { id: "t", version: 2, status: "ACTIVE" });
    known = newer(known, { id: "t", version: 1, status: "SCHEDULED" });
    expect(known).toEqual({ t: { id: "t", version: 2, status: "ACTIVE" } });
    known = newer(known, { id: "t", version: 3, status: "REVOKING" });
    expect((known as Record<string, { status: string }>).t.status).toBe("REVOKING");
  });
});
