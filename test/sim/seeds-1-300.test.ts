// The fixed seed list CI simulates, first half (the other file runs in parallel).
import { seedSuite } from './seed-suite.js';

seedSuite(1, 300);
