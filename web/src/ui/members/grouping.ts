/**
 * The member list's sections, as Discord shows them: online members under their most
 * senior role (roles by descending `position`, as homeserver/chat/guild.py ranks them),
 * those without a role under "Online", and everyone offline last under "Offline".
 */

export type Status = "online" | "away" | "busy" | "offline";

/** Presence → the status users see (README "Users": unavailable = Away). */
export function statusOf(presence: string | undefined): Status {
  switch (presence) {
    case "online":
      return "online";
    case "unavailable":
      return "away";
    case "busy":
      return "busy";
    default:
      return "offline";
  }
}

export const STATUS_LABEL: Record<Status, string> = {
  online: "Online",
  away: "Away",
  busy: "Busy",
  offline: "Offline",
};

export interface RoleInfo {
  id: string;
  name: string;
  color: string | null;
  position: number;
}

export interface MemberInfo {
  userId: string;
  displayName: string;
  roles: readonly string[];
  status: Status;
}

export interface MemberSection {
  /** A role id, or "online" / "offline" for the sections without a role. */
  key: string;
  title: string;
  members: MemberInfo[];
}

/** The user's roles that exist, most senior first. */
export function rankedRoles(roles: ReadonlyMap<string, RoleInfo>, held: readonly string[]): RoleInfo[] {
  return held
    .map((id) => roles.get(id))
    .filter((r): r is RoleInfo => r !== undefined)
    .sort((a, b) => b.position - a.position || a.id.localeCompare(b.id));
}

/** The colour a member's name is shown in: that of their most senior coloured role. */
export function nameColor(roles: ReadonlyMap<string, RoleInfo>, held: readonly string[]): string | null {
  return rankedRoles(roles, held).find((r) => r.color !== null)?.color ?? null;
}

export function memberSections(
  roles: ReadonlyMap<string, RoleInfo>,
  members: readonly MemberInfo[],
): MemberSection[] {
  const byName = (a: MemberInfo, b: MemberInfo) =>
    a.displayName.localeCompare(b.displayName) || a.userId.localeCompare(b.userId);
  const sections = new Map<string, MemberSection>();
  const offline: MemberInfo[] = [];
  const noRole: MemberInfo[] = [];
  for (const member of members) {
    if (member.status === "offline") {
      offline.push(member);
      continue;
    }
    const top = rankedRoles(roles, member.roles)[0];
    if (top === undefined) {
      noRole.push(member);
      continue;
    }
    const section = sections.get(top.id) ?? { key: top.id, title: top.name, members: [] };
    section.members.push(member);
    sections.set(top.id, section);
  }
  const ordered = [...sections.values()].sort(
    (a, b) => roles.get(b.key)!.position - roles.get(a.key)!.position || a.key.localeCompare(b.key),
  );
  if (noRole.length > 0) ordered.push({ key: "online", title: "Online", members: noRole });
  if (offline.length > 0) ordered.push({ key: "offline", title: "Offline", members: offline });
  for (const section of ordered) section.members.sort(byName);
  return ordered;
}
