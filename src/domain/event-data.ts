// jtel's EventData: the XML body document an agent's client renders for an ACD event. Texts
// from the create request are escaped so that no request can change the document's structure.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * Characters an XML 1.0 document cannot carry, not even as references: C0 controls other than
 * tab, line feed and carriage return, and U+FFFE/U+FFFF. (Lone surrogates are refused earlier,
 * for every text.)
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export interface EventDataParts {
  crmUrl: string | null;
  userData: string | null;
  body: string | null;
}

/** Absent parts give empty elements, as in jtel's own example. */
export function eventDataXml(parts: EventDataParts): string {
  const text = (value: string | null) => escapeXml(value ?? '');
  return (
    '<eventData><urls><url>' +
    `<urlPath>${text(parts.crmUrl)}</urlPath><displayName>${text(parts.userData)}</displayName>` +
    '</url></urls>' +
    `<body html="true">${text(parts.body)}</body>` +
    '</eventData>'
  );
}
