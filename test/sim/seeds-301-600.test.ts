// The fixed seed list CI simulates, second half (the other file runs in parallel).
import { seedSuite } from './seed-suite.js';

seedSuite(301, 600);
