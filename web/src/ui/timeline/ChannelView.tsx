/**
 * The text channel (or DM) view the shell renders for the selected room: reads the
 * store through source.ts and hands a plain model to ChannelPane.
 */
import { useComputed } from "@preact/signals";
import { useEffect, useMemo, useRef } from "preact/hooks";

import { loadMembers, type MatrixClient, type RoomState, type StoreState } from "../../matrix";
import type { ChannelModel } from "./channelModel";
import { ChannelPane } from "./ChannelPane";
import { buildActions, buildModel, parentSpace } from "./source";
import "./timeline.css";

export function ChannelView({ client, roomId }: { client: MatrixClient; roomId: string }) {
  return <Channel key={roomId} client={client} roomId={roomId} />;
}

type Inputs = [RoomState | undefined, RoomState | undefined, StoreState["profiles"], StoreState["presence"], unknown];

function Channel({ client, roomId }: { client: MatrixClient; roomId: string }) {
  // The store is immutable: while this room, its guild, the profiles, the presence (the
  // authors' status dots) and the uploads are the same objects, the model is too (other
  // rooms' syncs do not re-render the channel).
  const memo = useRef<{ inputs: Inputs; model: ChannelModel | undefined } | null>(null);
  const model = useComputed(() => {
    const state = client.store.state.value;
    const room = state.rooms[roomId];
    const inputs: Inputs = [room, parentSpace(state, roomId), state.profiles, state.presence, client.store.uploads.value];
    const last = memo.current;
    if (last && last.inputs.every((x, i) => x === inputs[i])) return last.model;
    const built = buildModel(client, state, roomId);
    memo.current = { inputs, model: built };
    return built;
  });
  const actions = useMemo(() => buildActions(client, roomId), [client, roomId]);
  useEffect(() => {
    loadMembers(client, roomId).catch(() => undefined);
  }, [client, roomId]);
  const current = model.value;
  if (!current) {
    return (
      <section class="tl-channel" aria-label="Channel">
        <p class="tl-start">Loading channel…</p>
      </section>
    );
  }
  return <ChannelPane model={current} actions={actions} />;
}
