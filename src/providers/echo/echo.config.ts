import { IsIn } from 'class-validator';

/** A provider entry of `type: echo`: nothing to set. */
export class EchoProviderConfig {
  @IsIn(['echo']) type: 'echo';
}
