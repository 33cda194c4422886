import { Fragment } from "preact";
import { useState } from "preact/hooks";

import { BellIcon, GearIcon, SpeakerIcon } from "../common/icons";

import { collapsedCategories, setCategoryCollapsed } from "../../matrix";
import { plain } from "../common/errors";
import { GuildHeader } from "../guilds/GuildHeader";
import { openChannel, place, useShell } from "../shell/context";
import { type ChannelInfo, type Guild, permissionsOf } from "../shell/model";
import { VoiceChannelMembers } from "../voice/VoiceChannelMembers";
import { CategorySettings } from "./CategorySettings";
import { ChannelSettings } from "./ChannelSettings";
import { CreateChannelDialog } from "./CreateChannelDialog";
import { moveCategory, moveChannel } from "./dnd";
import { ErrorText } from "../common/Dialog";

const classes = (...names: (string | false)[]) => names.filter(Boolean).join(" ");

// What is being dragged, kept here: dataTransfer cannot be read during dragover.
type Drag = { kind: "category"; id: string } | { kind: "channel"; roomId: string } | null;
const MIME = "application/x-concord-sidebar";

/**
 * The channel sidebar of a guild: categories (collapsible, remembered in `im.concord.ui`),
 * channels with unread/mention badges and mute, HTML5 drag-and-drop reordering.
 */
export function ChannelSidebar(props: { guild: Guild; muted: ReadonlySet<string>; onMuted: (roomId: string, muted: boolean) => void }) {
  const { guild, muted } = props;
  const { state, actions, userId, client } = useShell();
  const [drag, setDrag] = useState<Drag>(null);
  const [over, setOver] = useState<string | null>(null);
  const [creating, setCreating] = useState<string | null | undefined>(undefined);
  const [editing, setEditing] = useState<string | null>(null);
  const [editingCategory, setEditingCategory] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Collapsed categories live in account data im.concord.ui: other sessions see them too.
  const collapsed = new Set(collapsedCategories(state(), guild.roomId));
  const mayManage = permissionsOf(guild, userId).has("manage_channels");
  const visible = guild.channels.filter((c) => c.joined);

  const run = (work: Promise<unknown>[]) =>
    Promise.all(work).then(
      () => setError(null),
      (err) => setError(plain(err)),
    );

  const toggle = (categoryId: string) =>
    run([setCategoryCollapsed(client, guild.roomId, categoryId, !collapsed.has(categoryId))]);

  const dropCategory = (beforeId: string | null) => {
    if (drag?.kind !== "category") return;
    const moves = moveCategory(guild.categories, drag.id, beforeId);
    // Independent state events (one per category): the order they land in does not matter.
    void run(moves.map((m) => actions.updateCategory(guild.roomId, m.id, { order: m.order })));
  };

  const dropChannel = (category: string | null, beforeRoomId: string | null) => {
    if (drag?.kind !== "channel") return;
    const moves = moveChannel(guild.channels, drag.roomId, category, beforeRoomId);
    void run(moves.map((m) => actions.updateChannel(guild.roomId, m.roomId, { category: m.category, order: m.order })));
  };

  const dragProps = (d: Exclude<Drag, null>) =>
    mayManage
      ? {
          draggable: true,
          onDragStart: (e: DragEvent) => {
            e.dataTransfer?.setData(MIME, JSON.stringify(d));
            if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
            setDrag(d);
          },
          onDragEnd: () => {
            setDrag(null);
            setOver(null);
          },
        }
      : {};

  // A drop target: `key` highlights it; `accept` says which drags it takes.
  const dropProps = (key: string, accept: "category" | "channel", onDrop: () => void) => ({
    onDragOver: (e: DragEvent) => {
      if (drag?.kind !== accept) return;
      e.preventDefault();
      if (over !== key) setOver(key);
    },
    onDragLeave: () => over === key && setOver(null),
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      e.stopPropagation();
      setOver(null);
      onDrop();
      setDrag(null);
    },
  });

  const channelRow = (c: ChannelInfo) => {
    const active = place.value.channel === c.roomId;
    const isMuted = muted.has(c.roomId);
    const unread = c.unread > 0 && !isMuted;
    return (
      <Fragment key={c.roomId}>
      <li
        class={classes("channel", active && "active", unread && "unread", isMuted && "muted", over === `ch:${c.roomId}` && "drop-above")}
        data-testid="channel-row"
        data-channel-name={c.name}
        data-room-id={c.roomId}
        {...dragProps({ kind: "channel", roomId: c.roomId })}
        {...dropProps(`ch:${c.roomId}`, "channel", () => dropChannel(c.category, c.roomId))}
      >
        <button
          type="button"
          class="channel-link"
          aria-current={active ? "page" : undefined}
          aria-label={`${c.kind === "voice" ? "Voice" : "Text"} channel ${c.name}`}
          onClick={() => openChannel(guild.roomId, c.roomId)}
        >
          <span class="channel-icon" aria-hidden="true">
            {c.kind === "voice" ? <SpeakerIcon /> : "#"}
          </span>
          <span class="channel-name">{c.name}</span>
          {c.highlights > 0 ? (
            <span class="badge mention" aria-label={`${c.highlights} mentions`}>
              {c.highlights}
            </span>
          ) : unread ? (
            <span class="unread-dot" aria-label="Unread messages" />
          ) : null}
        </button>
        <button
          type="button"
          class="icon hover-only"
          aria-label={isMuted ? `Unmute ${c.name}` : `Mute ${c.name}`}
          aria-pressed={isMuted}
          title={isMuted ? "Unmute channel" : "Mute channel"}
          onClick={() => props.onMuted(c.roomId, !isMuted)}
        >
          <BellIcon off={isMuted} />
        </button>
        <button type="button" class="icon hover-only" aria-label={`Edit ${c.name}`} onClick={() => setEditing(c.roomId)}>
          <GearIcon />
        </button>
      </li>
      {c.kind === "voice" ? (
        <li class="voice-members-row">
          <VoiceChannelMembers client={client} roomId={c.roomId} />
        </li>
      ) : null}
      </Fragment>
    );
  };

  const uncategorised = visible.filter((c) => c.category === null);
  return (
    <aside class="sidebar" aria-label="Channels">
      <GuildHeader guild={guild} />
      <div class="channel-scroll">
        <ul class="channel-group" {...dropProps("cat-none", "channel", () => dropChannel(null, null))}>
          {uncategorised.map(channelRow)}
        </ul>
        {guild.categories.map((cat) => {
          const isCollapsed = collapsed.has(cat.id);
          const channels = visible.filter((c) => c.category === cat.id);
          const shown = isCollapsed ? channels.filter((c) => place.value.channel === c.roomId) : channels;
          return (
            <section
              key={cat.id}
              class={`category ${over === `cat:${cat.id}` ? "drop-above" : ""}`}
              data-testid="category"
              data-category-name={cat.name}
              {...dropProps(`cat:${cat.id}`, "category", () => dropCategory(cat.id))}
            >
              <header class="category-head" {...dragProps({ kind: "category", id: cat.id })}>
                <button
                  type="button"
                  class="category-toggle"
                  aria-expanded={!isCollapsed}
                  aria-label={`Category ${cat.name}`}
                  onClick={() => void toggle(cat.id)}
                >
                  <span aria-hidden="true">{isCollapsed ? "▸" : "▾"}</span> {cat.name.toUpperCase()}
                </button>
                {mayManage ? (
                  <>
                    <button type="button" class="icon" aria-label={`Create channel in ${cat.name}`} onClick={() => setCreating(cat.id)}>
                      +
                    </button>
                    <button type="button" class="icon" aria-label={`${cat.name} category settings`} onClick={() => setEditingCategory(cat.id)}>
                      <GearIcon />
                    </button>
                  </>
                ) : null}
              </header>
              <ul
                class={`channel-group ${over === `end:${cat.id}` ? "drop-below" : ""}`}
                {...dropProps(`end:${cat.id}`, "channel", () => dropChannel(cat.id, null))}
              >
                {shown.map(channelRow)}
              </ul>
            </section>
          );
        })}
        {mayManage ? (
          <div
            class={`category-end ${over === "cat-end" ? "drop-above" : ""}`}
            {...dropProps("cat-end", "category", () => dropCategory(null))}
          >
            <button type="button" class="link" onClick={() => setCreating(null)}>
              + Create channel
            </button>
            <NewCategory guildId={guild.roomId} onError={setError} />
          </div>
        ) : null}
        <ErrorText error={error} />
      </div>
      {creating !== undefined ? (
        <CreateChannelDialog guild={guild} category={creating} onClose={() => setCreating(undefined)} />
      ) : null}
      {editing ? <ChannelSettings guild={guild} roomId={editing} onClose={() => setEditing(null)} /> : null}
      {editingCategory ? (
        <CategorySettings guild={guild} categoryId={editingCategory} onClose={() => setEditingCategory(null)} />
      ) : null}
    </aside>
  );
}

function NewCategory(props: { guildId: string; onError: (e: string | null) => void }) {
  const { actions } = useShell();
  const [name, setName] = useState<string | null>(null);
  if (name === null) {
    return (
      <button type="button" class="link" onClick={() => setName("")}>
        + Create category
      </button>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return;
        actions.createCategory(props.guildId, name.trim()).then(
          () => setName(null),
          (err) => props.onError(plain(err)),
        );
      }}
    >
      <label>
        Category name
        <input value={name} maxLength={100} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <button type="submit">Create category</button>
    </form>
  );
}
