/// The accuracy-vs-cost Pareto front: the configurations no other configuration beats on both axes
/// (lower cost and higher accuracy at once).
public enum ParetoFront {
    /// Indices of the non-dominated points, ordered by increasing cost.
    /// A point is dominated when another has cost <= and accuracy >= with at least one strict.
    public static func indices(cost: [Double], accuracy: [Double]) -> [Int] {
        precondition(cost.count == accuracy.count)
        let order = cost.indices.filter { cost[$0].isFinite && accuracy[$0].isFinite }
            .sorted {
                // Ties broken by index so the front (and every report) is the same on every run.
                if cost[$0] != cost[$1] { return cost[$0] < cost[$1] }
                if accuracy[$0] != accuracy[$1] { return accuracy[$0] > accuracy[$1] }
                return $0 < $1
            }
        var front: [Int] = []
        var bestAccuracy = -Double.infinity
        for i in order where accuracy[i] > bestAccuracy {
            front.append(i)
            bestAccuracy = accuracy[i]
        }
        return front
    }
}
