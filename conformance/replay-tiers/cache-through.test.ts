// The transcript replay with a cache tier and --write-type CACHE_THROUGH.
import { replayWithWriteType } from '../lib/replay-tiers';

replayWithWriteType('CACHE_THROUGH');
