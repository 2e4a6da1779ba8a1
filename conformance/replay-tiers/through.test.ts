// The transcript replay with a cache tier and --write-type THROUGH.
import { replayWithWriteType } from '../lib/replay-tiers';

replayWithWriteType('THROUGH');
