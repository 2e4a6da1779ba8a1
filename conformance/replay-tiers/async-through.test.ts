// The transcript replay with a cache tier and --write-type ASYNC_THROUGH.
import { replayWithWriteType } from '../lib/replay-tiers';

replayWithWriteType('ASYNC_THROUGH');
