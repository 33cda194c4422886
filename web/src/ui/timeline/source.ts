/**
 * The seam between the Matrix client (web/src/matrix) and the channel view: builds the
 * view's ChannelModel from the store with the client's own derivations (message items,
 * guild model, power levels, names) and implements ChannelActions with its actions
 * (local echo and same-txn-id retry, uploads with progress, redaction, reactions,
 * /messages pagination, typing, receipts).
 */
import {
  avatarOf,
  canRedact,
  canSend,
  discardSend,
  displayName,
  editContent,
  guildFromRoom,
  guildOfChannel,
  type Guild,
  markRead,
  type MatrixClient,
  messageItems,
  type MessageItem as StoreItem,
  paginateBack,
  react,
  readMediaInfo,
  redact,
  retrySend,
  roomName,
  type RoomState,
  sendFile,
  sendRaw,
  sendWithEcho,
  setTyping,
  type StoreState,
  textContent,
  mayMentionRole,
} from "../../matrix";
import type { ChannelActions, ChannelModel, MessageItem, Person } from "./channelModel";
import { statusOf } from "../members/grouping";
import { nameColor } from "./model/roles";

const TYPING_TIMEOUT_MS = 10_000;

const guildCache = new WeakMap<RoomState, Guild>();

/** The guild space a channel belongs to (the joined space listing it), if any. */
export function parentSpace(state: StoreState, roomId: string): RoomState | undefined {
  const id = guildOfChannel(state, roomId);
  return id ? state.rooms[id] : undefined;
}

function guildOf(state: StoreState, roomId: string): Guild | undefined {
  const space = parentSpace(state, roomId);
  if (!space) return undefined;
  let guild = guildCache.get(space);
  if (!guild) guildCache.set(space, (guild = guildFromRoom(space)));
  return guild;
}

function toItem(item: StoreItem, progress: Record<string, { loaded: number; total: number }>, mentioned: boolean): MessageItem {
  const echoing = item.txnId !== undefined;
  const up = item.txnId ? progress[item.txnId] : undefined;
  return {
    // An echo keeps its txn key until sync brings the event (stable row, no flicker).
    id: echoing ? (item.eventId ?? `~${item.txnId}`) : item.key,
    sender: item.sender,
    ts: item.ts,
    content: item.content,
    body: item.body,
    edited: item.edited,
    replyTo: item.replyTo?.eventId,
    reactions: item.reactions.map((r) => ({ key: r.key, senders: r.senders, mine: r.mine })),
    mentionsMe: mentioned,
    // "sent" but not yet back through sync still shows as sending: it has no place in
    // the server's order yet.
    pending: echoing ? (item.status === "failed" ? "failed" : "sending") : undefined,
    txnId: item.txnId,
    failure: item.error,
    upload: up && up.total > 0 ? up.loaded / up.total : undefined,
  };
}

export function buildModel(client: MatrixClient, state: StoreState, roomId: string): ChannelModel | undefined {
  const room = state.rooms[roomId];
  if (!room) return undefined;
  const me = client.userId;
  const guild = guildOf(state, roomId);
  const progress = client.store.uploads.value;

  const person = (userId: string): Person => ({
    id: userId,
    name: displayName(state, userId, roomId),
    avatar: client.mediaUrl(avatarOf(state, userId, roomId), { width: 80, height: 80, method: "crop", animated: true }) ?? undefined,
    color: nameColor(guild, userId),
    status: statusOf(state.presence[userId]?.presence),
  });

  const items = messageItems(state, roomId)
    .filter((i) => !i.redacted)
    .map((i) => toItem(i, progress, i.mentionsMe));
  const byId = new Map(items.map((i) => [i.id, i]));

  const members = Object.entries(room.state["m.room.member"] ?? {})
    .filter(([, ev]) => ev.content["membership"] === "join")
    .map(([id]) => ({ id, name: displayName(state, id, roomId), color: nameColor(guild, id) }));
  const roles = guild ? Object.values(guild.roles) : [];
  const mentionableRoles = roles
    .filter((r) => mayMentionRole(guild!, me, r))
    .sort((a, b) => b.position - a.position)
    .map((r) => ({ id: r.id, name: r.name, color: r.color ?? undefined }));

  const write = canSend(room, me);
  const named = typeof room.state["m.room.name"]?.[""]?.content["name"] === "string" && room.state["m.room.name"][""].content["name"] !== "";
  return {
    roomId,
    me,
    name: roomName(state, roomId),
    isDm: !named && !guild,
    items,
    byId,
    deleted: new Set(Object.keys(room.relations.redactions)),
    person,
    members,
    mentionableRoles,
    roleNames: new Map(roles.map((r) => [r.id, r.name])),
    abilities: {
      write,
      react: canSend(room, me, "m.reaction"),
      // Someone else's message: the `redact` level (own messages need only m.room.redaction).
      redactOthers: canRedact(room, me, ""),
    },
    typing: room.typing.filter((u) => u !== me),
    canPaginate: !room.atStart && room.prevBatch !== null,
    readOnlyReason: write ? undefined : "You do not have permission to send messages in this channel.",
  };
}

const ignore = () => undefined;

export function buildActions(client: MatrixClient, roomId: string): ChannelActions {
  return {
    send(draft) {
      // A failure is kept on the local echo (status "failed", error in plain words).
      sendWithEcho(client, roomId, "m.room.message", textContent(draft)).catch(ignore);
    },
    sendFile(file) {
      readMediaInfo(file)
        .then((info) => sendFile(client, roomId, file, file.name, { info }))
        .catch(ignore);
    },
    retry(txnId) {
      retrySend(client, roomId, txnId).catch(ignore);
    },
    discard(txnId) {
      discardSend(client, roomId, txnId);
    },
    async edit(item, body) {
      const before = item.content["m.mentions"] as { user_ids?: unknown } | undefined;
      const users = Array.isArray(before?.user_ids) ? before.user_ids.filter((u): u is string => typeof u === "string") : [];
      const roles = item.content["im.concord.role_mentions"];
      const roleMentions = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
      await sendRaw(client, roomId, "m.room.message", editContent(item.id, { body, userMentions: users, roleMentions }, users));
    },
    async redact(eventId) {
      await redact(client, roomId, eventId);
    },
    async react(eventId, key) {
      await react(client, roomId, eventId, key);
    },
    async paginate() {
      await paginateBack(client, roomId);
    },
    typing(active) {
      setTyping(client, roomId, active, TYPING_TIMEOUT_MS).catch(ignore);
    },
    markRead(eventId) {
      markRead(client, roomId, eventId).catch(ignore);
    },
    mediaUrl(mxc) {
      return client.mediaUrl(mxc) ?? "";
    },
  };
}
