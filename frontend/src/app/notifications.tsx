import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { FlashbarProps } from "@cloudscape-design/components/flashbar";

type Notice = Omit<FlashbarProps.MessageDefinition, "id" | "onDismiss" | "dismissible"> & { id?: string };

interface Notifications {
  items: FlashbarProps.MessageDefinition[];
  notify: (notice: Notice) => void;
  clear: () => void;
}

const NotificationsContext = createContext<Notifications | null>(null);

let counter = 0;

export function NotificationsProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<FlashbarProps.MessageDefinition[]>([]);
  const dismiss = useCallback((id: string) => setItems((all) => all.filter((i) => i.id !== id)), []);
  const notify = useCallback(
    (notice: Notice) => {
      const id = notice.id ?? `n${++counter}`;
      const item = { ...notice, id, dismissible: true, dismissLabel: "Dismiss", onDismiss: () => dismiss(id) };
      setItems((all) => [item, ...all.filter((i) => i.id !== id)].slice(0, 5));
    },
    [dismiss],
  );
  const clear = useCallback(() => setItems([]), []);
  const value = useMemo(() => ({ items, notify, clear }), [items, notify, clear]);
  return <NotificationsContext.Provider value={value}>{children}</NotificationsContext.Provider>;
}

export function useNotifications(): Notifications {
  const value = useContext(NotificationsContext);
  if (!value) throw new Error("useNotifications outside NotificationsProvider");
  return value;
}
