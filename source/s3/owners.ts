// How a user appears in response documents (Owner, Initiator, Grantee): its name as ID and DisplayName.
import type { XmlNode } from '../http/xml';

export function userNodes(user: string): XmlNode[] {
  return [
    ['ID', user],
    ['DisplayName', user],
  ];
}
