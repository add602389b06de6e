//! N-body simulation of the Jovian planets (the Benchmarks Game's
//! algorithm): f64 arithmetic, square roots, small arrays.

const PI: f64 = 3.141592653589793;
const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS: f64 = 365.24;

#[derive(Clone, Copy)]
struct Body {
    p: [f64; 3],
    v: [f64; 3],
    m: f64,
}

fn bodies() -> [Body; 5] {
    let b = |p: [f64; 3], v: [f64; 3], m: f64| Body {
        p,
        v: [v[0] * DAYS, v[1] * DAYS, v[2] * DAYS],
        m: m * SOLAR_MASS,
    };
    [
        b([0.0; 3], [0.0; 3], 1.0),
        b(
            [4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01],
            [1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05],
            9.54791938424326609e-04,
        ),
        b(
            [8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01],
            [-2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05],
            2.85885980666130812e-04,
        ),
        b(
            [1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01],
            [2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05],
            4.36624404335156298e-05,
        ),
        b(
            [1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01],
            [2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05],
            5.15138902046611451e-05,
        ),
    ]
}

fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

fn advance(bodies: &mut [Body; 5], dt: f64) {
    for i in 0..5 {
        for j in i + 1..5 {
            let d = [
                bodies[i].p[0] - bodies[j].p[0],
                bodies[i].p[1] - bodies[j].p[1],
                bodies[i].p[2] - bodies[j].p[2],
            ];
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let mag = dt / (d2 * sqrt(d2));
            let (mi, mj) = (bodies[i].m, bodies[j].m);
            for k in 0..3 {
                bodies[i].v[k] -= d[k] * mj * mag;
                bodies[j].v[k] += d[k] * mi * mag;
            }
        }
    }
    for b in bodies.iter_mut() {
        for k in 0..3 {
            b.p[k] += dt * b.v[k];
        }
    }
}

fn energy(bodies: &[Body; 5]) -> f64 {
    let mut e = 0.0;
    for i in 0..5 {
        let b = &bodies[i];
        e += 0.5 * b.m * (b.v[0] * b.v[0] + b.v[1] * b.v[1] + b.v[2] * b.v[2]);
        for j in i + 1..5 {
            let d = [b.p[0] - bodies[j].p[0], b.p[1] - bodies[j].p[1], b.p[2] - bodies[j].p[2]];
            e -= b.m * bodies[j].m / sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        }
    }
    e
}

/// Runs `steps` steps; returns the final energy scaled to an integer.
#[no_mangle]
pub extern "C" fn run(steps: i32) -> i32 {
    let mut b = bodies();
    let mut p = [0.0; 3];
    for body in &b {
        for k in 0..3 {
            p[k] += body.v[k] * body.m;
        }
    }
    for k in 0..3 {
        b[0].v[k] = -p[k] / SOLAR_MASS;
    }
    for _ in 0..steps {
        advance(&mut b, 0.01);
    }
    (energy(&b) * 1e9) as i32
}
