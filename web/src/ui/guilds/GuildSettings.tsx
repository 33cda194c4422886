import { useState } from "preact/hooks";

import { Dialog, ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { openGuild, useShell } from "../shell/context";
import { BANNER, type Guild, permissionsOf } from "../shell/model";
import { RolesEditor } from "./RolesEditor";

/** Guild settings: Overview (name, image, banner, delete) and Roles. */
export function GuildSettings(props: { guild: Guild; onClose: () => void }) {
  const { userId } = useShell();
  const perms = permissionsOf(props.guild, userId);
  const [tab, setTab] = useState<"overview" | "roles">(perms.has("manage_guild") ? "overview" : "roles");
  return (
    <Dialog title="Guild settings" onClose={props.onClose} wide>
      <div class="tabs" role="tablist">
        {perms.has("manage_guild") ? (
          <button type="button" role="tab" aria-selected={tab === "overview"} onClick={() => setTab("overview")}>
            Overview
          </button>
        ) : null}
        {perms.has("manage_roles") ? (
          <button type="button" role="tab" aria-selected={tab === "roles"} onClick={() => setTab("roles")}>
            Roles
          </button>
        ) : null}
      </div>
      {tab === "overview" ? <Overview guild={props.guild} onClose={props.onClose} /> : <RolesEditor guild={props.guild} />}
    </Dialog>
  );
}

function Overview(props: { guild: Guild; onClose: () => void }) {
  const { actions, userId } = useShell();
  const g = props.guild;
  const [name, setName] = useState(g.name);
  const [image, setImage] = useState<File | null>(null);
  const [banner, setBanner] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  // The server lets administrators delete a guild (steward/guilds.py delete).
  const mayDelete = permissionsOf(g, userId).has("administrator");

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      if (name.trim() && name.trim() !== g.name) await actions.setState(g.roomId, "m.room.name", "", { name: name.trim() });
      if (image) await actions.setState(g.roomId, "m.room.avatar", "", { url: await actions.upload(image) });
      if (banner) await actions.setState(g.roomId, BANNER, "", { url: await actions.upload(banner) });
      setSaved(true);
    } catch (err) {
      setError(plain(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${g.name}? Every channel and message goes with it.`)) return;
    try {
      await actions.deleteGuild(g.roomId);
      openGuild(null);
      props.onClose();
    } catch (err) {
      setError(plain(err));
    }
  };
  return (
    <form onSubmit={save}>
      <label>
        Guild name
        <input value={name} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Guild image
        <input type="file" accept="image/*" onChange={(e) => setImage(e.currentTarget.files?.[0] ?? null)} />
      </label>
      <label>
        Guild banner
        <input type="file" accept="image/*" onChange={(e) => setBanner(e.currentTarget.files?.[0] ?? null)} />
      </label>
      <ErrorText error={error} />
      {saved ? <p role="status">Saved.</p> : null}
      <div class="actions">
        {mayDelete ? (
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete guild
          </button>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}
