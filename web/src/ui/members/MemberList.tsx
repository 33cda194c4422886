import { useEffect } from "preact/hooks";

import { Avatar } from "../common/Avatar";
import { profilePopup, useShell } from "../shell/context";
import { askPresence } from "../shell/presence";
import { type Guild, rolesOf, userView } from "../shell/model";
import { memberSections, nameColor } from "./grouping";

/** The right-hand member list: sections by most senior role, status dots, name colours. */
export function MemberList(props: { guild: Guild }) {
  const { state, actions, client } = useShell();
  const s = state();
  const g = props.guild;
  const room = s.rooms[g.roomId];
  // The steward (a creator that is not the owner) is infrastructure, not a member to show.
  const people = g.members.filter((u) => !g.creators.has(u) || u === g.owner);
  useEffect(() => askPresence(client, s.presence, people), [people.join(",")]);
  const infos = people.map((userId) => {
    const v = userView(s, userId, room);
    return { userId, displayName: v.displayName, roles: rolesOf(g, userId), status: v.status };
  });
  return (
    <aside class="member-list" aria-label="Members">
      {memberSections(g.roles, infos).map((section) => (
        <section key={section.key} aria-label={`${section.title} members`}>
          <h3>
            {section.title} — {section.members.length}
          </h3>
          <ul>
            {section.members.map((m) => {
              const v = userView(s, m.userId, room);
              return (
                <li key={m.userId}>
                  <button
                    type="button"
                    class={`member ${m.status === "offline" ? "offline" : ""}`}
                    data-testid="member"
                    data-user-id={m.userId}
                    data-status={m.status}
                    onClick={(e) => {
                      const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
                      profilePopup.value = { userId: m.userId, guildId: g.roomId, x: r.left - 320, y: r.top };
                    }}
                  >
                    <Avatar name={v.displayName} url={actions.mediaUrl(v.avatar)} size={32} status={m.status} />
                    <span class="member-name" style={{ color: nameColor(g.roles, m.roles) ?? undefined }}>
                      {v.displayName}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </aside>
  );
}
