/** A queue that delivers SQS-shaped batches to one consumer (SQS on AWS, in-process locally). */
export interface Queue<T> {
  send(messages: T[]): Promise<void>;
}
