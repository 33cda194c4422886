// The member list and typing line: who is in a room, their roles (from the room's guild)
// and status, grouped as Discord shows them.

import { rolesOf, type Role } from "./guild";
import type { StoreState } from "./store";
import { avatarOf, displayName, guildOf, guildOfChannel, isSpace, statusOf, type Status } from "./views";

export interface MemberSummary {
  userId: string;
  name: string;
  avatarUrl?: string;
  status: Status;
  roles: Role[];
  /** Colour of the most senior coloured role. */
  color: string | null;
}

export interface MemberGroup {
  /** A role (members whose most senior role it is), "online" or "offline". */
  id: string;
  title: string;
  members: MemberSummary[];
}

/**
 * The member list of a room: joined members grouped as Discord does — online members
 * under their most senior role, the rest online, then everyone offline. Roles come from
 * the room's guild (a channel's guild, or the guild itself).
 */
export function memberList(s: StoreState, roomId: string): MemberGroup[] {
  const room = s.rooms[roomId];
  if (!room) return [];
  const guildId = isSpace(room) ? roomId : guildOfChannel(s, roomId);
  const guild = guildId ? guildOf(s, guildId) : undefined;
  const members: MemberSummary[] = Object.entries(room.state["m.room.member"] ?? {})
    .filter(([, ev]) => ev.content["membership"] === "join")
    .map(([userId]) => {
      const roles = guild ? rolesOf(guild, userId).map((r) => guild.roles[r]!).sort((a, b) => b.position - a.position) : [];
      return {
        userId,
        name: displayName(s, userId, roomId),
        avatarUrl: avatarOf(s, userId, roomId),
        status: statusOf(s, userId),
        roles,
        color: roles.find((r) => r.color)?.color ?? null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || (a.userId < b.userId ? -1 : 1));
  const groups = new Map<string, MemberGroup>();
  const roleGroups: MemberGroup[] = [];
  const online: MemberGroup = { id: "online", title: "Online", members: [] };
  const offline: MemberGroup = { id: "offline", title: "Offline", members: [] };
  for (const member of members) {
    if (member.status === "offline") {
      offline.members.push(member);
      continue;
    }
    const top = member.roles[0];
    if (!top) {
      online.members.push(member);
      continue;
    }
    let group = groups.get(top.id);
    if (!group) {
      group = { id: top.id, title: top.name, members: [] };
      groups.set(top.id, group);
      roleGroups.push(group);
    }
    group.members.push(member);
  }
  roleGroups.sort((a, b) => (guild!.roles[b.id]!.position - guild!.roles[a.id]!.position));
  return [...roleGroups, online, offline].filter((g) => g.members.length > 0);
}

/** Who is typing in a room, other than us, by name. */
export function typingNames(s: StoreState, roomId: string): string[] {
  const room = s.rooms[roomId];
  return (room?.typing ?? []).filter((u) => u !== s.userId).map((u) => displayName(s, u, roomId));
}
