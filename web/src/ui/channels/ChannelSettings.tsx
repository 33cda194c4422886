import { useState } from "preact/hooks";

import { Dialog, ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { openGuild, useShell } from "../shell/context";
import { CHANNEL_ACTIONS, CHANNEL_PERMISSIONS, content, type Guild, maySendState, permissionsOf } from "../shell/model";

const ACTION_LABEL: Record<(typeof CHANNEL_ACTIONS)[number], string> = {
  read: "Read",
  write: "Write",
  edit_description: "Edit description",
};

/**
 * A channel's settings: name (PUT .../channels/{id}), description (m.room.topic) and
 * permissions (`im.concord.channel_permissions`: per action, the roles allowed; no entry
 * means everyone in the guild), and deletion.
 */
export function ChannelSettings(props: { guild: Guild; roomId: string; onClose: () => void }) {
  const { state, actions, userId } = useShell();
  const room = state().rooms[props.roomId];
  const channel = props.guild.channels.find((c) => c.roomId === props.roomId);
  const perms = content(room, CHANNEL_PERMISSIONS) ?? {};
  const [name, setName] = useState(channel?.name ?? "");
  const [topic, setTopic] = useState(channel?.topic ?? "");
  const [restrict, setRestrict] = useState<Record<string, string[] | null>>(() =>
    Object.fromEntries(CHANNEL_ACTIONS.map((a) => [a, Array.isArray(perms[a]) ? (perms[a] as string[]) : null])),
  );
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  if (!channel) return null;
  const mayManage = permissionsOf(props.guild, userId).has("manage_channels");
  const mayTopic = maySendState(room, userId, "m.room.topic");
  const roles = [...props.guild.roles.values()].sort((a, b) => b.position - a.position);

  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      if (mayManage && name.trim() && name.trim() !== channel.name) {
        await actions.updateChannel(props.guild.roomId, props.roomId, { name: name.trim() });
      }
      if (mayTopic && topic !== (channel.topic ?? "")) {
        await actions.setState(props.roomId, "m.room.topic", "", { topic });
      }
      if (mayManage) {
        const body: Record<string, string[]> = {};
        for (const a of CHANNEL_ACTIONS) if (restrict[a] !== null) body[a] = restrict[a]!;
        if (JSON.stringify(body) !== JSON.stringify(Object.keys(perms).length ? perms : {})) {
          // The channel's state is written by the guild's managers (compiled power levels).
          await actions.setState(props.roomId, CHANNEL_PERMISSIONS, "", body);
        }
      }
      setSaved(true);
    } catch (err) {
      setError(plain(err));
    }
  };

  const remove = async () => {
    if (!confirm(`Delete #${channel.name}? Its messages are gone for everyone.`)) return;
    try {
      await actions.deleteChannel(props.guild.roomId, props.roomId);
      openGuild(props.guild.roomId);
      props.onClose();
    } catch (err) {
      setError(plain(err));
    }
  };

  return (
    <Dialog title={`Channel settings: ${channel.name}`} onClose={props.onClose} wide>
      <form onSubmit={save}>
        <label>
          Channel name
          <input value={name} disabled={!mayManage} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Channel description
          <textarea value={topic} disabled={!mayTopic} maxLength={1024} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
        {mayManage ? (
          <fieldset class="permissions">
            <legend>Permissions</legend>
            {CHANNEL_ACTIONS.map((a) => {
              const allowed = restrict[a] ?? null;
              return (
                <div key={a} class="perm-row" role="group" aria-label={`${ACTION_LABEL[a]} permission`}>
                  <span class="perm-name">{ACTION_LABEL[a]}</span>
                  <label class="inline">
                    <input
                      type="checkbox"
                      checked={allowed === null}
                      onChange={(e) => setRestrict({ ...restrict, [a]: e.currentTarget.checked ? null : [] })}
                    />
                    Everyone
                  </label>
                  {allowed !== null
                    ? roles.map((r) => (
                        <label key={r.id} class="inline">
                          <input
                            type="checkbox"
                            checked={allowed.includes(r.id)}
                            onChange={(e) =>
                              setRestrict({
                                ...restrict,
                                [a]: e.currentTarget.checked ? [...allowed, r.id] : allowed.filter((x) => x !== r.id),
                              })
                            }
                          />
                          <span style={{ color: r.color ?? undefined }}>{r.name}</span>
                        </label>
                      ))
                    : null}
                </div>
              );
            })}
          </fieldset>
        ) : null}
        <ErrorText error={error} />
        {saved ? <p role="status">Saved.</p> : null}
        <div class="actions">
          {mayManage ? (
            <button type="button" class="danger" onClick={() => void remove()}>
              Delete channel
            </button>
          ) : null}
          <button type="submit" class="primary" disabled={!mayManage && !mayTopic}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
