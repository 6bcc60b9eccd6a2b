// Subject checks both Broker implementations apply before anything leaves the
// gateway, so a bad subject fails the same way embedded and on a cluster.

import { isValidPublishSubject, isValidQueueName, isValidSubscriptionSubject } from '../subject/subject.ts';
import { InvalidSubjectError } from './errors.ts';

export function assertPublishSubject(subject: string): void {
  if (!isValidPublishSubject(subject)) throw new InvalidSubjectError(subject, 'publish');
}

export function assertSubscription(subject: string, queue: string | null | undefined): void {
  if (!isValidSubscriptionSubject(subject)) throw new InvalidSubjectError(subject, 'subscribe');
  if (queue != null && !isValidQueueName(queue)) throw new InvalidSubjectError(queue, 'subscribe');
}
