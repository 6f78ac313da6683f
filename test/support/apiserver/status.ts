// Errors as the API server sends them: a Status object with code, reason and details
// (k8s.io/apimachinery/pkg/api/errors).
import type { Status } from './types.ts';
import type { ResourceType } from './resources.ts';

export class ApiError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message);
    this.status = status;
  }
}

export function statusOf(code: number, reason: string, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const qualified = (r: ResourceType) => (r.group === '' ? r.plural : `${r.plural}.${r.group}`);
const detailsOf = (r: ResourceType, name: string) => ({ name, group: r.group, kind: r.plural });

export const notFound = (r: ResourceType, name: string) =>
  new ApiError(statusOf(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsOf(r, name)));

export const alreadyExists = (r: ResourceType, name: string) =>
  new ApiError(statusOf(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, detailsOf(r, name)));

export const conflict = (r: ResourceType, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  new ApiError(statusOf(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, detailsOf(r, name)));

export const badRequest = (message: string) => new ApiError(statusOf(400, 'BadRequest', message));

export const invalid = (r: ResourceType, name: string, message: string) =>
  new ApiError(statusOf(422, 'Invalid', `${r.kind} "${name}" is invalid: ${message}`, { ...detailsOf(r, name), kind: r.kind }));

export const expired = (message: string) => new ApiError(statusOf(410, 'Expired', message));

export const methodNotAllowed = (message = 'the server does not allow this method on the requested resource') =>
  new ApiError(statusOf(405, 'MethodNotAllowed', message));

export const unsupportedMediaType = (contentType: string) =>
  new ApiError(statusOf(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got ${contentType}`));
