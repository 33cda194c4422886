import type { Status } from "../members/grouping";

/** Up to two initials of a name ("Cool Guild" → "CG"), as Discord shows for no image. */
export function initials(name: string): string {
  const words = name.replace(/^[@#]/, "").trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => [...w][0]!.toUpperCase());
  return letters.join("") || "?";
}

/** An image (http URL already resolved from mxc) or the name's initials. */
export function Avatar(props: { name: string; url: string | null; size?: number; status?: Status }) {
  const size = props.size ?? 32;
  return (
    <span class="avatar" style={{ width: `${size}px`, height: `${size}px` }}>
      {props.url ? (
        <img src={props.url} alt="" width={size} height={size} />
      ) : (
        <span class="initials" style={{ fontSize: `${Math.round(size / 2.6)}px` }} aria-hidden="true">
          {initials(props.name)}
        </span>
      )}
      {props.status ? <StatusDot status={props.status} /> : null}
    </span>
  );
}

const STATUS_NAMES: Record<Status, string> = { online: "Online", away: "Away", busy: "Busy", offline: "Offline" };

/** The coloured dot: Online green, Away orange, Busy red, Offline grey. */
export function StatusDot(props: { status: Status }) {
  return (
    <span
      class={`status-dot status-${props.status}`}
      role="img"
      aria-label={STATUS_NAMES[props.status]}
      title={STATUS_NAMES[props.status]}
      data-status={props.status}
    />
  );
}
