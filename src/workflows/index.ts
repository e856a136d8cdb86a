export { onboarding } from './onboarding';
export { expireIdempotencyKeys } from './housekeeping';
