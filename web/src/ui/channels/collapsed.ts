/**
 * Collapsed categories, kept in account data `im.concord.ui` (README "The Concord layer")
 * so that they survive a reload and follow the user to their other sessions:
 * `{"collapsed_categories": {"<guild room id>": ["<category id>", ...]}}`. Other keys of
 * the event are left as they are (a later client may keep more there).
 */

export const UI_ACCOUNT_DATA = "im.concord.ui";

export type UiAccountData = Record<string, unknown>;

export function collapsedIn(data: UiAccountData | undefined, guildId: string): ReadonlySet<string> {
  const all = data?.["collapsed_categories"];
  if (typeof all !== "object" || all === null) return new Set();
  const list = (all as Record<string, unknown>)[guildId];
  return new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : []);
}

/** The new account data content after toggling one category of one guild. */
export function toggleCollapsed(
  data: UiAccountData | undefined,
  guildId: string,
  categoryId: string,
): UiAccountData {
  const current = collapsedIn(data, guildId);
  const next = new Set(current);
  if (next.has(categoryId)) next.delete(categoryId);
  else next.add(categoryId);
  const old = data?.["collapsed_categories"];
  const all: Record<string, unknown> =
    typeof old === "object" && old !== null ? { ...(old as Record<string, unknown>) } : {};
  if (next.size === 0) delete all[guildId];
  else all[guildId] = [...next].sort();
  return { ...(data ?? {}), collapsed_categories: all };
}
