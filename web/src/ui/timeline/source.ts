/**
 * The seam between the Matrix client (web/src/matrix) and the channel view: builds the
 * view's ChannelModel from the store's RoomState and implements ChannelActions with the
 * client's HTTP and store reducers (spec: client-server "Sending events to a room"
 * with transaction ids for idempotent retries, "Redactions", "Receipts", "Typing
 * Notifications", "Content repository", GET /messages for history).
 */
import {
  addEcho,
  applyMembers,
  applyMessages,
  applyOwnReceipt,
  dropEcho,
  echoFailed,
  echoSent,
  errorMessage,
  type MatrixClient,
  type MessagesResponse,
  type RoomState,
  type StoreState,
} from "../../matrix";
import type { ChannelActions, ChannelModel, Person } from "./channelModel";
import { aggregate, type MessageItem } from "./model/aggregate";
import type { MatrixEvent, StateLookup } from "./model/events";
import { localpart } from "./model/events";
import { EMPTY_GUILD, type GuildInfo, guildFromState, mayMentionRole, nameColor } from "./model/guildInfo";
import { abilities } from "./model/powerLevels";
import { uploadWithProgress } from "./upload";

const PAGE_SIZE = 30;
const TYPING_TIMEOUT_MS = 10_000;

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** Every state event of a room as a flat list (for the guild reader). */
function stateEvents(room: RoomState): MatrixEvent[] {
  const out: MatrixEvent[] = [];
  for (const byKey of Object.values(room.state)) {
    for (const event of Object.values(byKey)) out.push(event as MatrixEvent);
  }
  return out;
}

export function lookup(room: RoomState | undefined): StateLookup {
  return (type, key) => room?.state[type]?.[key] as MatrixEvent | undefined;
}

/** The guild a channel belongs to: the space named by its m.space.parent that we hold. */
export function parentSpace(state: StoreState, room: RoomState): RoomState | undefined {
  for (const spaceId of Object.keys(room.state["m.space.parent"] ?? {})) {
    const space = state.rooms[spaceId];
    if (space && space.state["m.space.child"]?.[room.roomId]) return space;
  }
  return undefined;
}

const guildCache = new WeakMap<RoomState, GuildInfo>();

export function guildOf(state: StoreState, room: RoomState): GuildInfo {
  const space = parentSpace(state, room);
  if (!space) return EMPTY_GUILD;
  let guild = guildCache.get(space);
  if (!guild) guildCache.set(space, (guild = guildFromState(stateEvents(space))));
  return guild;
}

/**
 * The room's timeline plus its relations, as the plain event list `aggregate` reads:
 * the store keeps reactions and edits apart from the timeline (relations.ts).
 */
function eventsOf(room: RoomState): MatrixEvent[] {
  const events: MatrixEvent[] = [...(room.timeline as MatrixEvent[])];
  for (const list of Object.values(room.relations.edits)) events.push(...(list as MatrixEvent[]));
  for (const [target, byKey] of Object.entries(room.relations.reactions)) {
    for (const [key, senders] of Object.entries(byKey)) {
      for (const [sender, eventId] of Object.entries(senders)) {
        events.push({
          event_id: eventId,
          type: "m.reaction",
          sender,
          origin_server_ts: 0,
          content: { "m.relates_to": { rel_type: "m.annotation", event_id: target, key } },
        });
      }
    }
  }
  return events;
}

function echoItems(room: RoomState, me: string): MessageItem[] {
  return room.pending
    .filter((p) => p.type === "m.room.message" && !("m.new_content" in p.content))
    .map((p) => ({
      id: p.eventId ?? `~${p.txnId}`,
      sender: me,
      ts: p.ts,
      content: p.content,
      edited: false,
      replyTo: undefined,
      reactions: [],
      pending: p.status === "failed" ? ("failed" as const) : ("sending" as const),
      txnId: p.txnId,
      failure: p.error,
    }));
}

export function buildModel(client: MatrixClient, state: StoreState, roomId: string): ChannelModel | undefined {
  const room = state.rooms[roomId];
  if (!room) return undefined;
  const me = client.userId;
  const guild = guildOf(state, room);
  const get = lookup(room);
  const members = room.state["m.room.member"] ?? {};
  const profiles = state.profiles;

  const person = (userId: string): Person => {
    const member = members[userId]?.content;
    const profile = profiles[userId];
    const name =
      (typeof member?.["displayname"] === "string" && member["displayname"]) ||
      (typeof profile?.displayname === "string" && profile.displayname) ||
      localpart(userId);
    const mxc = typeof member?.["avatar_url"] === "string" ? member["avatar_url"] : profile?.avatar_url;
    return {
      id: userId,
      name,
      avatar: client.mediaUrl(mxc, { width: 80, height: 80, method: "crop", animated: true }) ?? undefined,
      color: nameColor(guild, userId),
    };
  };

  const items = [...aggregate(eventsOf(room), me), ...echoItems(room, me)];
  // A reply quotes its original with the original's edits applied.
  const byId = new Map(items.map((i) => [i.id, i]));
  for (const item of items) {
    const rel = item.content["m.relates_to"];
    if (item.replyTo === undefined && rel && typeof rel === "object") {
      const inReply = (rel as Record<string, unknown>)["m.in_reply_to"];
      const id = inReply && typeof inReply === "object" ? (inReply as Record<string, unknown>)["event_id"] : undefined;
      if (typeof id === "string") item.replyTo = id;
    }
  }

  const joined = Object.entries(members)
    .filter(([, ev]) => ev.content["membership"] === "join")
    .map(([id]) => {
      const p = person(id);
      return { id, name: p.name, color: p.color };
    });
  const mentionableRoles = [...guild.roles.values()]
    .filter((r) => mayMentionRole(guild, me, r))
    .sort((a, b) => b.position - a.position)
    .map((r) => ({ id: r.id, name: r.name, color: r.color }));

  const can = abilities(get, me);
  const nameContent = get("m.room.name", "")?.content;
  const topicContent = get("m.room.topic", "")?.content;
  const named = typeof nameContent?.["name"] === "string" && nameContent["name"] !== "";
  const isDm = !named && parentSpace(state, room) === undefined;
  const name = named ? String(nameContent["name"]) : dmName(room, me, person);
  return {
    roomId,
    me,
    name,
    isDm,
    topic: typeof topicContent?.["topic"] === "string" ? topicContent["topic"] : undefined,
    items,
    byId,
    deleted: new Set(Object.keys(room.relations.redactions)),
    person,
    members: joined,
    mentionableRoles,
    guild,
    abilities: can,
    typing: room.typing.filter((u) => u !== me),
    canPaginate: !room.atStart && room.prevBatch !== null,
    readOnlyReason: can.write ? undefined : "You do not have permission to send messages in this channel.",
  };
}

/** A room without a name (a DM) is called after the other member(s). */
function dmName(room: RoomState, me: string, person: (id: string) => Person): string {
  const others = Object.entries(room.state["m.room.member"] ?? {})
    .filter(([id, ev]) => id !== me && ["join", "invite"].includes(String(ev.content["membership"])))
    .map(([id]) => person(id).name);
  const heroes = room.heroes.filter((h) => h !== me).map((h) => person(h).name);
  return (others.length ? others : heroes).join(", ") || "Empty room";
}

function newTxnId(): string {
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

export function buildActions(client: MatrixClient, roomId: string): ChannelActions {
  const http = client.http;
  const store = client.store;
  const room = `/_matrix/client/v3/rooms/${enc(roomId)}`;
  let paging: Promise<void> | null = null;

  const put = (type: string, content: Record<string, unknown>, txnId: string) =>
    http.put<{ event_id: string }>(`${room}/send/${enc(type)}/${enc(txnId)}`, content);

  const sendEcho = (txnId: string, type: string, content: Record<string, unknown>) => {
    store.update((s) => addEcho(s, roomId, { txnId, type, content, status: "sending", ts: client.now() }));
    put(type, content, txnId).then(
      (r) => store.update((s) => echoSent(s, roomId, txnId, r.event_id)),
      (e: unknown) => store.update((s) => echoFailed(s, roomId, txnId, errorMessage(e))),
    );
  };

  return {
    send(content) {
      sendEcho(newTxnId(), "m.room.message", content);
    },
    retry(txnId) {
      const echo = store.room(roomId)?.pending.find((p) => p.txnId === txnId);
      // The same transaction id: if the first attempt did reach the server, the retry
      // is recognised as a duplicate (spec: "Transaction identifiers").
      if (echo) sendEcho(txnId, echo.type, echo.content);
    },
    discard(txnId) {
      store.update((s) => dropEcho(s, roomId, txnId));
    },
    async edit(_eventId, content) {
      await put("m.room.message", content, newTxnId());
    },
    async redact(eventId) {
      await http.put(`${room}/redact/${enc(eventId)}/${enc(newTxnId())}`, {});
    },
    async react(eventId, key) {
      await put("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } }, newTxnId());
    },
    paginate() {
      paging ??= (async () => {
        try {
          const current = store.room(roomId);
          if (!current || current.atStart || current.prevBatch === null) return;
          const page = await http.get<MessagesResponse>(`${room}/messages`, {
            dir: "b",
            from: current.prevBatch,
            limit: PAGE_SIZE,
            filter: JSON.stringify({ lazy_load_members: true }),
          });
          store.update((s) => applyMessages(s, roomId, page));
        } finally {
          paging = null;
        }
      })();
      return paging;
    },
    upload(file, onProgress) {
      return uploadWithProgress(client.session.baseUrl, client.session.accessToken, file, onProgress);
    },
    typing(active) {
      const body = active ? { typing: true, timeout: TYPING_TIMEOUT_MS } : { typing: false };
      http.put(`${room}/typing/${enc(client.userId)}`, body).catch(() => undefined);
    },
    markRead(eventId) {
      store.update((s) => applyOwnReceipt(s, roomId, eventId, client.now()));
      http
        .post(`${room}/read_markers`, { "m.fully_read": eventId, "m.read": eventId })
        .catch(() => undefined);
    },
    mediaUrl(mxc) {
      return client.mediaUrl(mxc) ?? "";
    },
  };
}

/** Load the full member list once (sync lazy-loads members; autocomplete wants all). */
export async function loadMembers(client: MatrixClient, roomId: string): Promise<void> {
  const room = client.store.room(roomId);
  if (!room || room.membersLoaded) return;
  const body = await client.http.get<{ chunk: MatrixEvent[] }>(
    `/_matrix/client/v3/rooms/${enc(roomId)}/members`,
    { not_membership: "leave" },
  );
  client.store.update((s) => applyMembers(s, roomId, body.chunk as never));
}
