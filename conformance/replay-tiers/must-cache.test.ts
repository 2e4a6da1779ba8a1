// The transcript replay with a cache tier and --write-type MUST_CACHE.
import { replayWithWriteType } from '../lib/replay-tiers';

replayWithWriteType('MUST_CACHE');
