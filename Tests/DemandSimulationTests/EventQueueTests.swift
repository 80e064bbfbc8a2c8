import DemandSimulation
import Testing

@Suite struct EventQueueTests {
    @Test func eventsComeOutByTimeThenInSchedulingOrder() {
        var agenda = EventQueue<String>()
        agenda.schedule("b1", at: 5)
        agenda.schedule("a", at: 3)
        agenda.schedule("b2", at: 5)
        agenda.schedule("c", at: 9)
        agenda.schedule("b3", at: 5)
        var order: [String] = []
        while let (_, event) = agenda.next() {
            order.append(event)
            if event == "a" { agenda.schedule("a-later", at: 5) }
        }
        #expect(order == ["a", "b1", "b2", "b3", "a-later", "c"])
        #expect(agenda.now == 9 && agenda.scheduledTotal == 6)
    }

    @Test func randomScheduleAgainstASortedReference() {
        var random = RandomStream(seed: 3, replication: 0, stream: .behaviour)
        var agenda = EventQueue<Int>()
        var reference: [(Int, Int)] = []
        for i in 0..<5_000 {
            let t = Int(random.next() % 1_000)
            agenda.schedule(i, at: t)
            reference.append((t, i))
        }
        reference.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var taken: [(Int, Int)] = []
        while let (t, e) = agenda.next() { taken.append((t, e)) }
        #expect(taken.map(\.1) == reference.map(\.1))
    }

    @Test func aFullAgendaRefusesInsteadOfGrowingWithoutLimit() {
        var agenda = EventQueue<Int>(pendingMax: 3)
        var accepted: [Bool] = []
        for i in 0..<4 { accepted.append(agenda.schedule(i, at: 1)) }
        #expect(accepted == [true, true, true, false])
        #expect(agenda.count == 3)
    }
}
